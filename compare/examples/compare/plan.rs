//! What the compare example measures: the workloads in table order, the
//! rows each one fills, and their goals (the "Goals" section of
//! `compare/README.md` gives the reason for each).

use crate::context::Context;
use crate::harness::contender::Contender;
use crate::harness::contenders::{TaskpoolL1, TaskpoolL2};
use crate::harness::workloads::{
    Timed, Unmeasured, Via, blocking, combinators, fan_out, fork_join, heap, idle_cpu, latency,
    loops, scope, spawn_join, submit, tokio_shapes, wakeup,
};
use std::time::Duration;

/// The "ours" columns, by name, for goals that hold one level only.
const LEVEL_1: &str = TaskpoolL1::NAME;
const LEVEL_2: &str = TaskpoolL2::NAME;

/// Rows are printed under these headings, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Throughput,
    ForkJoin,
    Combinators,
    TokioShapes,
    Blocking,
    IdleAndMemory,
}

impl Group {
    pub fn heading(self) -> &'static str {
        match self {
            Group::Throughput => "Throughput",
            Group::ForkJoin => "Fork-join",
            Group::Combinators => "Task combinators (when_all, then)",
            Group::TokioShapes => "tokio's scheduler benchmarks (rt_multi_threaded.rs)",
            Group::Blocking => "Blocking calls offloaded (spawn_blocking)",
            Group::IdleAndMemory => "Wake-up, idle CPU and memory",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Group::Throughput => "throughput",
            Group::ForkJoin => "fork_join",
            Group::Combinators => "combinators",
            Group::TokioShapes => "tokio_shapes",
            Group::Blocking => "blocking",
            Group::IdleAndMemory => "idle_and_memory",
        }
    }
}

/// A goal for "ours" columns; `compare/README.md` ("Goals") says why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// At most this times the best peer.
    VsBestPeer(f64),
    /// At most this times the named peer.
    VsPeer(&'static str, f64),
    /// At most this times a column's value on another row (level 2's
    /// spawn + join against level 1's fire-and-forget, say).
    VsOtherRow {
        row: &'static str,
        column: &'static str,
        limit: f64,
    },
    /// At most this value, in the row's unit.
    AtMost(f64),
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Stable across runs and sizes: the key in JSON and scaling reports.
    pub id: String,
    pub group: Group,
    pub title: String,
    pub unit: String,
    /// A variant of the row above it, printed indented under it.
    pub indented: bool,
    /// Goals, each with the one "ours" column it holds (`None`: every one).
    pub goals: Vec<(Option<&'static str>, Goal)>,
    /// What the row measures, in one line under the table.
    pub about: &'static str,
    /// Why a surprising number is not a fault, printed after `about`.
    pub note: &'static str,
    /// Values at or below this are the measurement's noise and compare as
    /// equal (zero: every difference counts).
    pub resolution: f64,
}

impl Row {
    /// A row with no title yet, no goals, not indented.
    pub fn new(id: &str, group: Group, unit: &str) -> Row {
        Row {
            id: id.to_owned(),
            group,
            title: id.to_owned(),
            unit: unit.to_owned(),
            indented: false,
            goals: Vec::new(),
            about: "",
            note: "",
            resolution: 0.0,
        }
    }

    /// `value` relative to `best` on this row, both read no finer than its
    /// resolution; `None` when there is no scale (`best` is zero).
    pub fn relative(&self, value: f64, best: f64) -> Option<f64> {
        let best = best.max(self.resolution);
        (best > 0.0).then(|| value.max(self.resolution) / best)
    }

    fn title(mut self, title: String) -> Row {
        self.title = title;
        self
    }

    fn about(mut self, about: &'static str) -> Row {
        self.about = about;
        self
    }

    fn note(mut self, note: &'static str) -> Row {
        self.note = note;
        self
    }

    /// A goal for every "ours" column.
    fn goal(mut self, goal: Goal) -> Row {
        self.goals.push((None, goal));
        self
    }

    /// A goal for one level only (level 1's bytes per job
    /// say nothing about a task, which also holds a result slot).
    fn goal_for(mut self, column: &'static str, goal: Goal) -> Row {
        self.goals.push((Some(column), goal));
        self
    }

    fn resolution(mut self, resolution: f64) -> Row {
        self.resolution = resolution;
        self
    }

    fn indented(mut self) -> Row {
        self.indented = true;
        self
    }
}

/// One measurement procedure; most fill one row, some several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    FireAndForget,
    Contention {
        submitters: usize,
    },
    SpawnJoin,
    NestedFanOut,
    FibNoCutoff,
    FibTasks,
    FibCutoff,
    TreeSum,
    ScopeTinyTasks,
    SpawnManyLocal,
    SpawnManyRemoteIdle,
    SpawnManyRemoteBusy,
    PingPong,
    YieldMany,
    ChainedSpawn,
    BlockingOffload,
    BlockingMixed,
    TimersBehindBacklog,
    TimersIdle,
    QueueWait,
    WakeUp,
    IdleCpu,
    HeapPerJob,
    HeapPerTask,
    /// Parallel loops and sort, beside rayon's (one block: `loops_rows`,
    /// `run_loops`).
    Loops,
    WhenAll,
    ThenChain,
}

/// A workload's values on one contender, one per row, and how it ran.
#[derive(Debug, Clone)]
pub struct Measured {
    pub values: Vec<f64>,
    pub via: Via,
}

impl Workload {
    /// Every workload, in table order. Several submitters means 2 and, on a
    /// machine with more, one per CPU.
    pub fn all(cpus: usize) -> Vec<Workload> {
        let mut plan = vec![
            Workload::FireAndForget,
            Workload::Contention { submitters: 2 },
        ];
        if cpus > 2 {
            plan.push(Workload::Contention { submitters: cpus });
        }
        plan.extend([
            Workload::SpawnJoin,
            Workload::NestedFanOut,
            Workload::FibNoCutoff,
            Workload::FibTasks,
            Workload::FibCutoff,
            Workload::TreeSum,
            Workload::ScopeTinyTasks,
            Workload::Loops,
            Workload::WhenAll,
            Workload::ThenChain,
            Workload::SpawnManyLocal,
            Workload::SpawnManyRemoteIdle,
            Workload::SpawnManyRemoteBusy,
            Workload::PingPong,
            Workload::YieldMany,
            Workload::ChainedSpawn,
            Workload::BlockingOffload,
            Workload::BlockingMixed,
            Workload::TimersBehindBacklog,
            Workload::TimersIdle,
            Workload::QueueWait,
            Workload::WakeUp,
            Workload::IdleCpu,
            Workload::HeapPerJob,
            Workload::HeapPerTask,
        ]);
        plan
    }

    /// The rows this workload fills, in the order of [`Measured::values`].
    pub fn rows(self, context: &Context) -> Vec<Row> {
        use Group::*;
        let sizes = &context.sizes;
        let row = Row::new;
        match self {
            Workload::FireAndForget => vec![
                row("fire_and_forget", Throughput, "ns/job")
                    .title(format!(
                        "fire-and-forget, {} jobs, 1 submitter",
                        count(sizes.jobs)
                    ))
                    .about("jobs queued from one outside thread: injector + wake-up")
                    .goal_for(LEVEL_1, Goal::VsBestPeer(0.3))
                    .goal_for(
                        LEVEL_2,
                        Goal::VsOtherRow {
                            row: "fire_and_forget",
                            column: LEVEL_1,
                            limit: 2.0,
                        },
                    ),
            ],
            Workload::Contention { submitters } => {
                let (id, all) = match submitters {
                    2 => ("contention_2", ""),
                    _ => ("contention_all", " (all cores)"),
                };
                vec![
                    row(id, Throughput, "ns/job")
                        .title(format!(
                            "fire-and-forget, {submitters} submitters at once{all}"
                        ))
                        .about(
                            "the same jobs from several threads at once, fighting for the injector",
                        )
                        .indented(),
                ]
            }
            Workload::SpawnJoin => vec![
                row("spawn_join", Throughput, "ns/task")
                    .title(format!(
                        "spawn + join a result, {} tasks",
                        count(sizes.tasks)
                    ))
                    .about("tasks returning their index, all joined")
                    .goal_for(LEVEL_2, Goal::VsBestPeer(0.7))
                    .goal_for(
                        LEVEL_2,
                        Goal::VsOtherRow {
                            row: "fire_and_forget",
                            column: LEVEL_1,
                            limit: 3.0,
                        },
                    ),
            ],
            Workload::NestedFanOut => vec![
                row("nested_fan_out", Throughput, "ns/job")
                    .title(format!(
                        "nested fan-out from workers, 2^{}-1 jobs",
                        sizes.fan_out_levels
                    ))
                    .about("a tree of jobs queueing their children: deques, stealing")
                    .goal_for(LEVEL_1, Goal::VsPeer("rayon", 0.5))
                    .goal_for(
                        LEVEL_2,
                        Goal::VsOtherRow {
                            row: "nested_fan_out",
                            column: LEVEL_1,
                            limit: 2.0,
                        },
                    ),
            ],
            Workload::FibNoCutoff => vec![
                row("fib_no_cutoff", ForkJoin, "ms")
                    .title(format!("fib({}), no cutoff", sizes.fib_no_cutoff))
                    .about("a join at every call of a tiny function")
                    .note(
                        "slower than serial on purpose: a fork per call of a function this small \
                         measures per-task overhead, not speed-up",
                    )
                    .goal(Goal::VsPeer("rayon", 1.0)),
            ],
            Workload::FibTasks => vec![
                row("fib_tasks", ForkJoin, "ms")
                    .title(format!("fib({}), a Task per fork", sizes.fib_no_cutoff))
                    .about(
                        "the same with taskpool::spawn + Task::join at every call, from a worker",
                    )
                    .note(
                        "only level 2 forks with a Task; rayon's column is its join [j] (the \
                         goal's bar), tokio's spawn + await [a]",
                    )
                    .goal_for(LEVEL_2, Goal::VsPeer("rayon", 3.0))
                    .indented(),
            ],
            Workload::FibCutoff => vec![
                row("fib_cutoff", ForkJoin, "ms")
                    .title(format!(
                        "fib({}), serial below {}",
                        sizes.fib_cutoff.0, sizes.fib_cutoff.1
                    ))
                    .about("the same, serial leaves: real work spread out"),
            ],
            Workload::TreeSum => vec![
                row("tree_sum", ForkJoin, "ms")
                    .title(format!(
                        "tree sum, 2^{}-1 nodes, serial below 2^{}",
                        sizes.tree_levels, sizes.tree_serial_levels
                    ))
                    .about("a tree summed from the top: memory-bound work"),
            ],
            Workload::ScopeTinyTasks => vec![
                row("scope_tiny_tasks", ForkJoin, "ns/task")
                    .title(format!(
                        "{} scoped tiny tasks in one scope",
                        count(scope_tasks(sizes.tasks))
                    ))
                    .about("tasks that borrow a vector, each writing its slot: scope spawn cost")
                    .goal_for(LEVEL_2, Goal::VsPeer("rayon", 0.7)),
            ],
            Workload::WhenAll => vec![
                row("when_all", Combinators, "ns/task")
                    .title(format!(
                        "when_all of {} tasks from outside",
                        count(sizes.when_all)
                    ))
                    .about("tasks returning their index, spawned and waited for as one")
                    .note(
                        "taskpool::when_all, then join; tokio: a JoinSet (spawn_on), then \
                         join_all in block_on, as its docs show for waiting for many tasks",
                    )
                    .goal_for(LEVEL_2, Goal::VsPeer("tokio", 0.7)),
            ],
            Workload::ThenChain => vec![
                row("then_chain", Combinators, "ns/step")
                    .title(format!(
                        "then chain, {} continuations on one task",
                        count(sizes.then_chain)
                    ))
                    .about("each step queued when the one before ends, adding one to its value")
                    .note(
                        "Task::then on the previous Task; tokio: a spawned task awaiting the \
                         previous JoinHandle (no then of its own), the chain built in a loop",
                    )
                    .goal_for(LEVEL_2, Goal::VsPeer("tokio", 0.7)),
            ],
            Workload::SpawnManyLocal => vec![
                row("spawn_many_local", TokioShapes, "ns/job")
                    .title(format!(
                        "spawn_many_local, {} from a worker",
                        count(sizes.spawn_many)
                    ))
                    .about("jobs queued by one job on a worker while the others steal them"),
            ],
            Workload::SpawnManyRemoteIdle => vec![
                row("spawn_many_remote_idle", TokioShapes, "ns/job")
                    .title(format!(
                        "spawn_many_remote_idle, {}",
                        count(sizes.spawn_many)
                    ))
                    .about("jobs queued from outside onto an idle pool: the injector, waking it"),
            ],
            Workload::SpawnManyRemoteBusy => vec![
                row("spawn_many_remote_busy", TokioShapes, "ns/job")
                    .title(format!(
                        "spawn_many_remote_busy, {}",
                        count(sizes.busy_spawns)
                    ))
                    .about("outside jobs while every worker runs a chain of 10 us busy jobs")
                    .note(
                        "tokio's outlier is its fairness rule: a busy tokio worker looks at \
                         outside jobs only every few dozen of its own, so each one waits behind \
                         10 us stalls; rayon never looks (starved)",
                    ),
            ],
            Workload::PingPong => vec![
                row("ping_pong", TokioShapes, "ns/ping")
                    .title(format!("ping_pong, {} pings", count(sizes.pings)))
                    .about("pairs of tasks answering each other: waking a waiting task"),
            ],
            Workload::YieldMany => vec![
                row("yield_many", TokioShapes, "ns/yield")
                    .title(format!(
                        "yield_many, {} tasks x {}",
                        sizes.yield_tasks,
                        count(sizes.yields)
                    ))
                    .about("tasks that yield over and over: re-queueing a task"),
            ],
            Workload::ChainedSpawn => vec![
                row("chained_spawn", TokioShapes, "ns/job")
                    .title(format!("chained_spawn, {} long", count(sizes.chain)))
                    .about("each job queues the next: handing one job from worker to worker"),
            ],
            Workload::BlockingOffload => vec![
                row("blocking_offload", Blocking, "ms")
                    .title(format!(
                        "{} x sleep({} ms) offloaded",
                        BLOCKING_CALLS,
                        BLOCKING_NAP.as_millis()
                    ))
                    .about("blocking calls queued by a job on the pool onto its blocking threads")
                    .goal_for(LEVEL_2, Goal::VsPeer("tokio", 1.1)),
            ],
            Workload::BlockingMixed => vec![
                row("blocking_mixed", Blocking, "ms")
                    .title(format!(
                        "{} x sleep({} ms) offloaded + {} tasks of {} ms CPU",
                        MIXED_CALLS,
                        MIXED_NAP.as_millis(),
                        MIXED_CPU_TASKS,
                        MIXED_CPU.as_millis()
                    ))
                    .about("blocking calls offloaded while CPU tasks run on the workers")
                    .goal_for(LEVEL_2, Goal::VsPeer("tokio", 1.1)),
            ],
            // Latency under load: woken work first, outside work in order.
            Workload::TimersBehindBacklog => vec![
                row("timers_backlog_p50", IdleAndMemory, "us")
                    .title(format!(
                        "timer lateness behind a backlog, p50 of {TIMER_SLEEPERS} sleeps"
                    ))
                    .about(
                        "async sleeps due while outside jobs of 50 us keep every worker busy: \
                         polled minus requested",
                    ),
                row("timers_backlog_p99", IdleAndMemory, "us")
                    .title(format!(
                        "timer lateness behind a backlog, p99 of {TIMER_SLEEPERS} sleeps"
                    ))
                    .about("the same, at its latest: a woken task waiting out the backlog")
                    .goal_for(LEVEL_2, Goal::VsPeer("tokio", 1.0))
                    .indented(),
            ],
            Workload::TimersIdle => vec![
                row("timers_idle_p50", IdleAndMemory, "us")
                    .title(format!(
                        "timer lateness, no backlog, p50 of {TIMER_SLEEPERS} sleeps"
                    ))
                    .about("the same sleeps on a pool with nothing else to do: the timer alone"),
                row("timers_idle_p99", IdleAndMemory, "us")
                    .title(format!(
                        "timer lateness, no backlog, p99 of {TIMER_SLEEPERS} sleeps"
                    ))
                    .about("the same, at its latest")
                    .indented(),
            ],
            Workload::QueueWait => vec![
                row("queue_wait_p50", IdleAndMemory, "us")
                    .title(format!(
                        "queue wait, steady outside stream, p50 of {}",
                        count(queue_wait_bursts(sizes) * latency::STREAM_BURST)
                    ))
                    .about(
                        "one outside thread submits 8 jobs of 25 us every 1 ms: submit to start",
                    ),
                row("queue_wait_p99", IdleAndMemory, "us")
                    .title("queue wait, steady outside stream, p99".into())
                    .about("the same, at its slowest: jobs started out of submission order")
                    .goal_for(LEVEL_1, Goal::VsPeer("rayon", 1.0))
                    .indented(),
            ],
            Workload::WakeUp => vec![
                row("wakeup_p50", IdleAndMemory, "us")
                    .title(format!("wake-up latency, p50 of {}", sizes.wakeup_samples))
                    .about("one job queued onto a pool asleep for 2 ms, until it starts")
                    .goal(Goal::VsBestPeer(1.0)),
                row("wakeup_p99", IdleAndMemory, "us")
                    .title(format!("wake-up latency, p99 of {}", sizes.wakeup_samples))
                    .about("the same, at its slowest")
                    .indented(),
            ],
            Workload::IdleCpu => vec![
                row("idle_cpu", IdleAndMemory, "ms/idle s")
                    .title("idle CPU".into())
                    .about("CPU a pool burns while it has nothing to do")
                    // CPU clocks of a second's idleness jitter by a few µs.
                    .resolution(0.01)
                    .goal(Goal::AtMost(0.1)),
            ],
            Workload::HeapPerJob => vec![
                row("heap_per_job", IdleAndMemory, "B/job")
                    .title("heap per queued job".into())
                    .about("heap still held per job while many jobs wait in the queue")
                    .goal_for(LEVEL_1, Goal::AtMost(32.0)),
                row("allocations_per_job", IdleAndMemory, "allocs")
                    .title("allocations per queued job".into())
                    .about("allocation calls made to queue one job")
                    .indented(),
            ],
            Workload::Loops => loops_rows(context),
            Workload::HeapPerTask => vec![
                row("heap_per_task", IdleAndMemory, "B/task")
                    .title("heap per queued task with a result".into())
                    .about("the same for a task with a result slot (or a job and a channel)")
                    .goal_for(LEVEL_2, Goal::AtMost(64.0)),
                row("allocations_per_task", IdleAndMemory, "allocs")
                    .title("allocations per queued task".into())
                    .about("allocation calls made to queue one task")
                    .indented(),
            ],
        }
    }

    /// Runs for the timed workloads; the others sample enough in one run.
    pub fn repetitions(self, context: &Context) -> usize {
        match self {
            Workload::WakeUp | Workload::IdleCpu | Workload::HeapPerJob | Workload::HeapPerTask => {
                1
            }
            _ => context.repetitions,
        }
    }

    /// Runs the workload once on `pool`.
    pub fn run<C: Contender>(self, pool: &C, context: &Context) -> Result<Measured, Unmeasured> {
        let sizes = &context.sizes;
        let timed = |timed: Timed, per: usize| Measured {
            values: vec![nanos_per(timed.elapsed, per)],
            via: timed.via,
        };
        let native = |elapsed: Duration, per: usize| timed(Timed::native(elapsed), per);
        let millis = |timed: Timed| Measured {
            values: vec![timed.elapsed.as_secs_f64() * 1e3],
            via: timed.via,
        };
        Ok(match self {
            Workload::FireAndForget => {
                native(submit::from_one_thread(pool, sizes.jobs), sizes.jobs)
            }
            Workload::Contention { submitters } => native(
                submit::from_threads(pool, submitters, sizes.jobs),
                sizes.jobs,
            ),
            Workload::SpawnJoin => timed(spawn_join::run(pool, sizes.tasks), sizes.tasks),
            Workload::NestedFanOut => native(
                fan_out::run(pool, sizes.fan_out_levels),
                fan_out::jobs(sizes.fan_out_levels),
            ),
            Workload::FibNoCutoff => millis(fork_join::fib(pool, sizes.fib_no_cutoff, 2)?),
            Workload::FibTasks => millis(fork_join::fib_tasks(pool, sizes.fib_no_cutoff)?),
            Workload::FibCutoff => {
                let (n, serial_below) = sizes.fib_cutoff;
                millis(fork_join::fib(pool, n, serial_below)?)
            }
            Workload::TreeSum => millis(fork_join::tree_sum(
                pool,
                sizes.tree_levels,
                sizes.tree_serial_levels,
            )?),
            Workload::ScopeTinyTasks => {
                let tasks = scope_tasks(sizes.tasks);
                timed(scope::tiny_tasks(pool, tasks)?, tasks)
            }
            Workload::WhenAll => {
                native(combinators::when_all(pool, sizes.when_all)?, sizes.when_all)
            }
            Workload::ThenChain => native(
                combinators::then_chain(pool, sizes.then_chain)?,
                sizes.then_chain,
            ),
            Workload::SpawnManyLocal => native(
                tokio_shapes::spawn_many_local(pool, sizes.spawn_many),
                sizes.spawn_many,
            ),
            Workload::SpawnManyRemoteIdle => native(
                tokio_shapes::spawn_many_remote_idle(pool, sizes.spawn_many),
                sizes.spawn_many,
            ),
            Workload::SpawnManyRemoteBusy => native(
                tokio_shapes::spawn_many_remote_busy(pool, context.threads, sizes.busy_spawns)?,
                sizes.busy_spawns,
            ),
            Workload::PingPong => native(tokio_shapes::ping_pong(pool, sizes.pings)?, sizes.pings),
            Workload::YieldMany => timed(
                tokio_shapes::yield_many(pool, sizes.yield_tasks, sizes.yields),
                sizes.yield_tasks * sizes.yields,
            ),
            Workload::ChainedSpawn => {
                native(tokio_shapes::chained_spawn(pool, sizes.chain), sizes.chain)
            }
            Workload::BlockingOffload => millis(Timed::native(blocking::offload_sleeps(
                pool,
                BLOCKING_CALLS,
                BLOCKING_NAP,
            )?)),
            Workload::BlockingMixed => millis(Timed::native(blocking::mixed(
                pool,
                MIXED_CALLS,
                MIXED_NAP,
                MIXED_CPU_TASKS,
                MIXED_CPU,
            )?)),
            Workload::TimersBehindBacklog | Workload::TimersIdle => {
                let backlog = match self {
                    Workload::TimersBehindBacklog => latency::backlog_for(context.threads),
                    _ => 0,
                };
                let tail = latency::timers(pool, TIMER_SLEEPERS, backlog)?;
                micros_tail(tail)
            }
            Workload::QueueWait => micros_tail(latency::queue_wait(pool, queue_wait_bursts(sizes))),
            Workload::WakeUp => {
                let mut samples: Vec<Duration> = (0..sizes.wakeup_samples)
                    .map(|_| wakeup::sample(pool, sizes.wakeup_idle))
                    .collect();
                let mut micros = |q| wakeup::quantile(&mut samples, q).as_secs_f64() * 1e6;
                Measured {
                    values: vec![micros(0.5), micros(0.99)],
                    via: Via::Native,
                }
            }
            Workload::IdleCpu => Measured {
                values: vec![idle_cpu::ms_per_idle_second(
                    pool,
                    sizes.idle_settle,
                    sizes.idle_window,
                )?],
                via: Via::Native,
            },
            Workload::HeapPerJob => {
                let per = heap::per_job(pool, context.threads, sizes.heap_jobs, context.allocator)?;
                Measured {
                    values: vec![per.bytes, per.allocations],
                    via: per.via,
                }
            }
            Workload::Loops => run_loops(pool, context)?,
            Workload::HeapPerTask => {
                let per =
                    heap::per_task(pool, context.threads, sizes.heap_jobs, context.allocator)?;
                Measured {
                    values: vec![per.bytes, per.allocations],
                    via: per.via,
                }
            }
        })
    }

    /// The same work without a pool, where that means something: the floor
    /// under every contender.
    pub fn serial(self, context: &Context) -> Option<Vec<f64>> {
        let sizes = &context.sizes;
        let millis = |elapsed: Duration| elapsed.as_secs_f64() * 1e3;
        let value = match self {
            Workload::FireAndForget => nanos_per(submit::serial(sizes.jobs), sizes.jobs),
            Workload::SpawnJoin => nanos_per(spawn_join::serial(sizes.tasks), sizes.tasks),
            Workload::NestedFanOut => nanos_per(
                fan_out::serial(sizes.fan_out_levels),
                fan_out::jobs(sizes.fan_out_levels),
            ),
            Workload::FibNoCutoff | Workload::FibTasks => {
                millis(fork_join::fib_serial_timed(sizes.fib_no_cutoff))
            }
            Workload::FibCutoff => millis(fork_join::fib_serial_timed(sizes.fib_cutoff.0)),
            Workload::TreeSum => millis(fork_join::tree_sum_serial_timed(sizes.tree_levels)),
            Workload::WhenAll => nanos_per(spawn_join::serial(sizes.when_all), sizes.when_all),
            Workload::Loops => return Some(serial_loops(context)),
            _ => return None,
        };
        Some(vec![value])
    }
}

/// The scope row's task count: half the spawn + join row's (100k in a full
/// run).
fn scope_tasks(tasks: usize) -> usize {
    tasks / 2
}

/// The blocking rows' shapes: the same in every mode, since their time is
/// mostly the naps.
const BLOCKING_CALLS: usize = 100;
const BLOCKING_NAP: Duration = Duration::from_millis(10);
const MIXED_CALLS: usize = 40;
const MIXED_NAP: Duration = Duration::from_millis(50);
const MIXED_CPU_TASKS: usize = 400;
const MIXED_CPU: Duration = Duration::from_millis(2);

/// Async sleeps per run of the timer rows.
const TIMER_SLEEPERS: usize = 200;

/// Bursts of the queue-wait row's stream: 0.3 s of it (2,400 jobs), a
/// sixth in `--quick`.
fn queue_wait_bursts(sizes: &crate::context::Sizes) -> usize {
    sizes.wakeup_samples
}

fn micros_tail(tail: latency::Tail) -> Measured {
    Measured {
        values: vec![tail.p50.as_secs_f64() * 1e6, tail.p99.as_secs_f64() * 1e6],
        via: Via::Native,
    }
}

// ---------------------------------------------------------------------------
// Parallel loops and sort beside rayon (`harness/workloads/loops.rs`).
// ---------------------------------------------------------------------------

/// The sizes of the loop rows: the issue's, or smaller in quick mode.
struct LoopSizes {
    sum: usize,
    fill: usize,
    image: (usize, usize),
    small_loops: usize,
    sort: usize,
}

/// Loops of this many iterations for the per-loop overhead row.
const SMALL_LOOP_LEN: usize = 100;
/// Sums and fills timed back to back, so that one is well over a timer tick.
const LOOP_ROUNDS: usize = 10;

impl LoopSizes {
    fn of(context: &Context) -> LoopSizes {
        let quick = context.sizes.jobs < crate::context::Sizes::full().jobs;
        if quick {
            LoopSizes {
                sum: 1_000_000,
                fill: 1_000_000,
                image: (512, 384),
                small_loops: 2_000,
                sort: 2_000_000,
            }
        } else {
            LoopSizes {
                sum: 10_000_000,
                fill: 1_000_000,
                image: (1024, 768),
                small_loops: 10_000,
                sort: 20_000_000,
            }
        }
    }
}

fn loops_rows(context: &Context) -> Vec<Row> {
    let sizes = LoopSizes::of(context);
    let rayon = || Goal::VsPeer("rayon", 1.0);
    vec![
        Row::new("parallel_sum", Group::ForkJoin, "ms")
            .title(format!("parallel sum of {} u64", count(sizes.sum)))
            .about("map-reduce over a slice: taskpool map_reduce, rayon par_iter().sum()")
            .goal_for(LEVEL_2, rayon()),
        Row::new("parallel_for", Group::ForkJoin, "ns/index")
            .title(format!(
                "parallel for over {} cheap indices",
                count(sizes.fill)
            ))
            .about("an output slot written per index: for_each_mut, rayon par_iter_mut")
            .goal_for(LEVEL_2, rayon()),
        Row::new("uneven_image", Group::ForkJoin, "ms")
            .title(format!(
                "Mandelbrot {}x{}, up to {} iterations",
                sizes.image.0,
                sizes.image.1,
                loops::MAX_ITERATIONS
            ))
            .about("rows of a hundredfold uneven cost: for_each_chunk_mut, rayon par_chunks_mut")
            .goal_for(LEVEL_2, rayon()),
        Row::new("small_loops", Group::ForkJoin, "us/loop")
            .title(format!(
                "{} loops of {SMALL_LOOP_LEN} from outside",
                count(sizes.small_loops)
            ))
            .about("per-loop overhead: a short loop started from a thread outside the pool")
            .goal_for(LEVEL_2, rayon()),
        Row::new("parallel_sort", Group::ForkJoin, "ms")
            .title(format!("parallel sort of {} random u64", count(sizes.sort)))
            .about("par_sort_unstable, both")
            .goal_for(LEVEL_2, rayon()),
    ]
}

fn run_loops<C: Contender>(pool: &C, context: &Context) -> Result<Measured, Unmeasured> {
    let sizes = LoopSizes::of(context);
    let millis = |elapsed: Duration| elapsed.as_secs_f64() * 1e3;
    Ok(Measured {
        values: vec![
            millis(loops::sum(pool, sizes.sum, LOOP_ROUNDS)?),
            nanos_per(loops::fill(pool, sizes.fill, LOOP_ROUNDS)?, sizes.fill),
            millis(loops::image(pool, sizes.image.0, sizes.image.1)?),
            loops::small_loops(pool, sizes.small_loops, SMALL_LOOP_LEN)?.as_secs_f64() * 1e6,
            millis(loops::sort(pool, sizes.sort)?),
        ],
        via: Via::Native,
    })
}

fn serial_loops(context: &Context) -> Vec<f64> {
    let sizes = LoopSizes::of(context);
    let millis = |elapsed: Duration| elapsed.as_secs_f64() * 1e3;
    vec![
        millis(loops::sum_serial(sizes.sum, LOOP_ROUNDS)),
        nanos_per(loops::fill_serial(sizes.fill, LOOP_ROUNDS), sizes.fill),
        millis(loops::image_serial(sizes.image.0, sizes.image.1)),
        loops::fill_serial(SMALL_LOOP_LEN, sizes.small_loops).as_secs_f64() * 1e6,
        millis(loops::sort_serial(sizes.sort)),
    ]
}

fn nanos_per(elapsed: Duration, count: usize) -> f64 {
    elapsed.as_nanos() as f64 / count.max(1) as f64
}

/// 1000000 as "1M", 200000 as "200k".
fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
