//! [`MotoServer`]: moto in server mode, a real S3-compatible server for the S3 adapter's tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::S3Config;

/// The server's Python program (embedded, so a test of any crate can start it).
const SCRIPT: &str = include_str!("moto_server.py");

/// moto's defaults: it accepts any credentials, and these are the ones its documentation uses.
const ACCESS_KEY_ID: &str = "testing";
const SECRET_ACCESS_KEY: &str = "testing";

/// Whether `python3` with `moto` is installed. Prints one skip line and answers false when it is
/// not, or panics when `ICOSISTEM_REQUIRE_SERVICES=1` (`.ci/run` installs `moto[server]`).
pub fn moto_available() -> bool {
    icosistem_delivery::testing::python_module_available("moto")
}

/// A running moto server on 127.0.0.1, shared by every test of the process: started on first
/// use, and stopped when the process exits (the server exits when its stdin closes).
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    // Holding the child keeps its stdin open, which keeps the server running.
    _child: Mutex<Child>,
}

static SERVER: OnceLock<MotoServer> = OnceLock::new();

impl MotoServer {
    /// The process's server, started if this is the first call. Check [`moto_available`] first.
    pub fn shared() -> &'static Self {
        SERVER.get_or_init(Self::start)
    }

    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(SCRIPT)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start moto (python3)");
        let stdout = child.stdout.take().expect("stdout");
        // Read the READY line on a thread, so a server that hangs fails the test after a bound
        // instead of blocking it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.trim() == "READY" => {}
            other => {
                let _ = child.kill();
                panic!("moto did not start on port {port} (its stderr is above): {other:?}");
            }
        }
        Self {
            port,
            _child: Mutex::new(child),
        }
    }

    /// The server's URL (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket named `bucket` and answers the configuration of an adapter over it.
    pub async fn bucket(&self, bucket: &str) -> S3Config {
        // A bare `PUT /<bucket>` over HTTP/1.1: moto does not check signatures, and this way the
        // tests need no S3 client besides the adapter under test.
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to moto");
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("receive");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "moto refused to create bucket {bucket}: {response}"
        );
        S3Config::new(bucket)
            .with_endpoint(self.endpoint())
            .with_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// The multipart uploads of `bucket` that were started and neither completed nor aborted
    /// (S3's `ListMultipartUploads`), by key.
    pub async fn unfinished_uploads(&self, bucket: &str) -> Vec<String> {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to moto");
        let request = format!(
            "GET /{bucket}?uploads HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("receive");
        assert!(response.starts_with("HTTP/1.1 200"), "ListMultipartUploads: {response}");
        response
            .split("<Upload>")
            .skip(1)
            .filter_map(|upload| {
                let start = upload.find("<Key>")? + "<Key>".len();
                let end = upload[start..].find("</Key>")? + start;
                Some(upload[start..end].to_owned())
            })
            .collect()
    }
}
