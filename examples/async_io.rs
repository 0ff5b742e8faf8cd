//! Async I/O on the pool, which has no reactor of its own: sockets from
//! `async-net` (whose `async-io` reactor runs on a thread of its own and
//! wakes the pool's tasks like any other waker), a channel from
//! `async-channel`, and a blocking call through the `blocking` crate's
//! threads, all awaited on taskpool's workers.
//!
//! A localhost TCP echo server: an accept loop started with
//! `execute_async`, one detached future per connection, and clients gathered
//! in completion order with a `TaskSet`. Finishes well within a second.
//!
//! ```sh
//! cargo run --example async_io
//! ```

use async_net::{TcpListener, TcpStream};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::time::{Duration, Instant};
use taskpool::{TaskSet, ThreadPool};

const CLIENTS: usize = 20;

/// Echoes what the client sends until it closes its side.
async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = [0_u8; 256];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..read]).await?;
    }
}

/// Sends one line, closes its writing side, and returns what came back.
async fn client(address: std::net::SocketAddr, id: usize) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address).await?;
    stream
        .write_all(format!("hello from client {id}").as_bytes())
        .await?;
    stream.close().await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    Ok(reply)
}

fn main() -> std::io::Result<()> {
    let started = Instant::now();
    let pool = ThreadPool::new(2);
    // A blocking call (name resolution) on `blocking`'s threads, awaited
    // by a task on the pool: the worker is not held meanwhile.
    let resolve = pool.spawn_async(blocking::unblock(|| {
        use std::net::ToSocketAddrs;
        ("127.0.0.1", 0)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
    }));
    let bind_to = resolve.join().expect("the resolving task ran")?;
    let listener = taskpool::block_on(TcpListener::bind(bind_to))?;
    let address = listener.local_addr()?;

    // Progress from the connection handlers, over an executor-agnostic channel.
    let (served, handled) = async_channel::unbounded::<usize>();
    pool.execute_async(async move {
        for _ in 0..CLIENTS {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let served = served.clone();
            // On a worker, the free function spawns on this same pool.
            taskpool::execute_async(async move {
                let outcome = echo(stream).await;
                let _ = served.send(usize::from(outcome.is_ok())).await;
            });
        }
    });

    let mut set: TaskSet<std::io::Result<String>> = (0..CLIENTS)
        .map(|id| pool.spawn_async(client(address, id)))
        .collect();
    let mut replies = 0;
    while let Some(result) = set.join_next() {
        let reply = result.expect("the client task ran")?;
        assert!(reply.starts_with("hello from client "), "echoed: {reply}");
        replies += 1;
    }

    // Every handler reports once; a timeout keeps the example from hanging.
    let handlers = taskpool::block_on(taskpool::timeout(Duration::from_secs(5), async {
        let mut ok = 0;
        for _ in 0..CLIENTS {
            ok += handled.recv().await.expect("a handler reports");
        }
        ok
    }))
    .expect("every connection handler finished");

    assert_eq!((replies, handlers), (CLIENTS, CLIENTS));
    pool.shutdown();
    println!(
        "{CLIENTS} echo round trips over localhost TCP on a 2-thread pool in {:.1?}",
        started.elapsed()
    );
    Ok(())
}
