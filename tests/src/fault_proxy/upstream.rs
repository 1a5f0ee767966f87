//! The proxy's side towards the emulator: kept-alive connections, reused one request at a time.
//! A fresh TCP connection per request costs the emulator a socket accept and a new server thread
//! (werkzeug starts one per connection): ~0.4 ms of its CPU per call, which the AWS SDK's own
//! connection pool never makes a real endpoint pay.
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::http::{self, Request, Response};

pub struct Upstream {
    addr: SocketAddr,
    idle: Mutex<Vec<BufReader<TcpStream>>>,
}

impl Upstream {
    pub fn new(addr: SocketAddr) -> Upstream {
        Upstream { addr, idle: Mutex::new(Vec::new()) }
    }

    /// Sends `req` and reads its answer. On a reused connection that the emulator had closed
    /// (nothing written, or no answer begun) the request goes once more on a fresh connection.
    pub async fn exchange(&self, req: &Request) -> io::Result<Response> {
        let bytes = req.to_upstream_bytes();
        let head = req.method == "HEAD";
        if let Some(mut conn) = self.take_idle() {
            match send(&mut conn, &bytes, head).await {
                Ok(resp) => return Ok(self.give_back(conn, resp)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::BrokenPipe || e.kind() == io::ErrorKind::ConnectionReset => {}
                Err(e) => return Err(e),
            }
        }
        let mut conn = BufReader::new(TcpStream::connect(self.addr).await?);
        let _ = conn.get_ref().set_nodelay(true);
        let resp = send(&mut conn, &bytes, head).await?;
        Ok(self.give_back(conn, resp))
    }

    fn take_idle(&self) -> Option<BufReader<TcpStream>> {
        self.idle.lock().expect("upstream pool").pop()
    }

    /// Keeps the connection for the next request when the answer's end was framed (a length or
    /// chunks) and the emulator did not close it.
    fn give_back(&self, conn: BufReader<TcpStream>, resp: Response) -> Response {
        if resp.reusable_connection() {
            self.idle.lock().expect("upstream pool").push(conn);
        }
        resp
    }
}

async fn send(conn: &mut BufReader<TcpStream>, bytes: &[u8], head: bool) -> io::Result<Response> {
    conn.get_mut().write_all(bytes).await?;
    http::read_response(conn, head).await
}
