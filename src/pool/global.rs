//! The lazily built global pool behind the free functions.

use super::{Builder, ThreadPool};
use crate::error::{BuildError, BuildErrorKind};
use crate::sync::{OnceLock, StaticMutex};

static GLOBAL: OnceLock<ThreadPool> = OnceLock::new();
/// Every initialisation of `GLOBAL` happens under this lock, so a lazy first
/// use and `build_global` never both start threads, and `OnceLock` never
/// waits on an initialiser that waits on us.
static INSTALLING: StaticMutex<()> = StaticMutex::new(());

/// The global pool, built with the default settings on first use.
///
/// # Panics
///
/// If the global pool does not exist yet and its threads cannot be started.
pub(super) fn pool() -> &'static ThreadPool {
    if let Some(pool) = GLOBAL.get() {
        return pool;
    }
    let _installing = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    GLOBAL.get_or_init(|| ThreadPool::new(0))
}

/// Builds the global pool from `builder`, unless it exists already.
pub(super) fn install(builder: Builder) -> Result<(), BuildError> {
    let _installing = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if GLOBAL.get().is_some() {
        return Err(BuildError::new(BuildErrorKind::GlobalAlreadyInitialized));
    }
    let pool = builder.build()?;
    if let Err(pool) = GLOBAL.set(pool) {
        drop(pool);
        return Err(BuildError::new(BuildErrorKind::GlobalAlreadyInitialized));
    }
    Ok(())
}
