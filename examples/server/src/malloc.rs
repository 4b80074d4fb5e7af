//! How the process allocates: mimalloc, with options that give memory back.
//!
//! The server's global allocator is mimalloc (`#[global_allocator]` in `main.rs`). It replaced
//! glibc's malloc, which needed two arenas and a 128 KiB mmap/trim threshold to return
//! argon2id's 19 MiB blocks (one per password hash; left at its defaults, a replica kept 324 MiB
//! after a login load). Those settings made glibc trim and refault the top of its heap
//! continually: measured with the server's CPU time per request on the memory store (wrk, 16
//! connections, 2 cores), `malloc`, `free` and `malloc_consolidate` were 14 % of a
//! `GET /projects/{id}`'s profile, and the request cost 46–88 µs of CPU from run to run; with
//! mimalloc 35–36 µs, `GET /health` 19 µs instead of 21–40 µs.
//!
//! mimalloc's defaults hold freed memory for 10 ms and commit its arenas eagerly, which raised the
//! peak RSS of the same run with logins from 60 MiB (glibc, tuned) to 84 MiB. With
//! [`OPTIONS`] — purge at once, commit on demand — it peaked at 57 MiB.
//!
//! mimalloc reads its options from the environment when the process starts, and safe Rust cannot
//! set them afterwards. So [`reexec_with_tunables`] runs first in `main`: unless an option of
//! [`OPTIONS`] is already set, it replaces the process with itself, same arguments, with
//! [`OPTIONS`] added. An operator's own `MIMALLOC_*` settings are left alone, and
//! `ICOSISTEM_MALLOC_TUNING=off` skips it (mimalloc's defaults).

/// The mimalloc options the server runs with (environment variables mimalloc reads at start).
pub const OPTIONS: &[(&str, &str)] = &[
    // Return freed pages to the OS at once instead of after 10 ms.
    ("MIMALLOC_PURGE_DELAY", "0"),
    // Commit arena memory as it is touched, not all of an arena up front.
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// Re-executes the process with [`OPTIONS`] unless one of them is already set or
/// `ICOSISTEM_MALLOC_TUNING=off`. Returns only when it did not re-execute (or could not: then
/// with a warning on stderr).
pub fn reexec_with_tunables() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;

        if OPTIONS.iter().any(|(name, _)| std::env::var_os(name).is_some())
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
        let error = command.args(args).envs(OPTIONS.iter().copied()).exec();
        eprintln!("icosistem-server: running with mimalloc's default options: re-exec failed: {error}");
    }
}
