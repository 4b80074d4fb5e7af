//! How the process allocates: glibc's malloc, with settings that give memory back.
//!
//! Left at its defaults, glibc grows one arena per thread (up to 8 per CPU) and raises its mmap
//! threshold after the first large block is freed, so argon2id's 19 MiB blocks (one per
//! password hash) end up inside arenas that are never returned: measured with
//! `benches/http/compare.sh` (200 entrepreneurs seeded, PostgreSQL), the server's peak RSS was
//! 324 MiB. With at most two arenas and a fixed 128 KiB mmap/trim threshold — every large block
//! its own mapping, unmapped on free — the same run peaks at 76 MiB, at the same throughput.
//!
//! These are glibc tunables, read when the process starts; safe Rust cannot set them afterwards.
//! So [`reexec_with_tunables`] runs first in `main`: when `GLIBC_TUNABLES` is unset it replaces
//! the process with itself, same arguments, with [`TUNABLES`] set. An operator's own
//! `GLIBC_TUNABLES` is left alone, and `ICOSISTEM_MALLOC_TUNING=off` skips it. Elsewhere than
//! Linux with glibc it does nothing.

/// The glibc tunables the server runs with.
pub const TUNABLES: &str =
    "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";

/// Re-executes the process with [`TUNABLES`] unless they (or other tunables) are already set.
/// Returns only when it did not re-execute (or could not: then with a warning on stderr).
pub fn reexec_with_tunables() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;

        if std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var("ICOSISTEM_MALLOC_TUNING").is_ok_and(|v| v.eq_ignore_ascii_case("off"))
        {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        let error = command.args(args).env("GLIBC_TUNABLES", TUNABLES).exec();
        eprintln!("icosistem-server: running with glibc's default malloc settings: re-exec failed: {error}");
    }
}
