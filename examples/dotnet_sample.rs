//! The classic .NET sample that contrasts `ThreadPool.QueueUserWorkItem`
//! with `Task.Run`, in Rust:
//!
//! ```csharp
//! ThreadPool.QueueUserWorkItem(state => Console.WriteLine($"Work item: {state}"), "hello");
//! Task.Run(async () => { await Task.Delay(2000); Console.WriteLine("Task done"); });
//! Console.WriteLine("Main thread continues executing...");
//! ```
//!
//! In that sample `Main` returns before its background work has run: the
//! process ends and takes the work item and the task with it, silently. Here
//! `main` waits for both properly: the work item through a level-1
//! completion signal (a channel), the task through its `Task`. That
//! difference matters because fire-and-forget work whose end nobody waits
//! for is work that may never happen, and a panic in it nobody would see.
//!
//! Run: `cargo run --release --example dotnet_sample`

use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let pool = taskpool::ThreadPool::new(2);
    let start = Instant::now();

    // Level 1: a work item that receives a state value, and signals when it
    // is done (QueueUserWorkItem has no handle, so we bring our own).
    let state = String::from("hello from the work item");
    let (finished, work_item_done) = mpsc::channel();
    pool.execute(move || {
        println!("Work item: {state}");
        finished.send(()).expect("main waits for the work item");
    });

    // Level 2: an async task that awaits a 2 s delay without holding a thread.
    let task = pool.spawn_async(async {
        taskpool::sleep(Duration::from_secs(2)).await;
        "Task done after awaiting a 2 s delay"
    });

    println!("Main thread continues executing...");

    work_item_done.recv().expect("the work item signals");
    let message = task
        .join()
        .expect("the task neither panics nor is cancelled");
    println!("{message}");
    println!(
        "Both finished after {:.2} s; main waited for each of them.",
        start.elapsed().as_secs_f64()
    );
}
