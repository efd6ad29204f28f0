//! A lock that is taken or refused, never waited for: the per-CPU instance
//! is used by one packet at a time, and a nested use must be refused.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

pub struct TryLock<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a Guard, and at most one Guard
// exists at a time (the busy flag), so sharing the lock across threads
// hands out exclusive access to one thread at a time.
unsafe impl<T: Send> Sync for TryLock<T> {}

impl<T> TryLock<T> {
    pub const fn new(value: T) -> Self {
        Self {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, or `None` when someone is using it already.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        if self.busy.swap(true, Ordering::Acquire) {
            None
        } else {
            Some(Guard { lock: self })
        }
    }
}

pub struct Guard<'a, T> {
    lock: &'a TryLock<T>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (busy flag held).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the only one (busy flag held).
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.lock.busy.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::TryLock;

    #[test]
    fn refuses_second_user() {
        let lock = TryLock::new(1);
        let mut g = lock.try_lock().unwrap();
        *g += 1;
        assert!(lock.try_lock().is_none());
        drop(g);
        assert_eq!(*lock.try_lock().unwrap(), 2);
    }
}
