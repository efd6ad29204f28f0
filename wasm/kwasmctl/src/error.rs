// SPDX-License-Identifier: GPL-2.0
//! How kwasmctl fails, and the exit code of each way.

use std::ffi::CStr;
use std::io;
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: an unreadable or invalid file, a bad argument.
    #[error("{context}: {source:#}")]
    Input {
        context: String,
        source: anyhow::Error,
    },
    /// The kernel refused a request.
    #[error("{context}: {} (errno {errno}){}", strerror(*errno), reason_suffix(reason))]
    Kernel {
        context: String,
        errno: i32,
        reason: String,
    },
    /// The module is not loaded.
    #[error(
        "{path}: {}: is the kwasm module loaded? (modprobe kwasm, or make load)",
        strerror(*errno)
    )]
    NoModule { path: &'static str, errno: i32 },
}

impl Error {
    pub fn input(context: impl Into<String>, source: anyhow::Error) -> Self {
        Self::Input {
            context: context.into(),
            source,
        }
    }

    /// A failed system call on `path`, which belongs to the module.
    pub fn module_io(context: impl Into<String>, path: &'static str, err: io::Error) -> Self {
        match err.raw_os_error().unwrap_or(0) {
            errno @ (libc::ENOENT | libc::ENODEV | libc::ENXIO) => Self::NoModule { path, errno },
            errno => Self::Kernel {
                context: context.into(),
                errno,
                reason: String::new(),
            },
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Kernel { .. } => 1,
            Self::Input { .. } => 2,
            Self::NoModule { .. } => 3,
        })
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// The C library's message for `errno`, without io::Error's "(os error N)".
pub fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: buf is writable for its whole length; on success strerror_r
    // leaves a NUL-terminated string in it.
    if unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) } != 0 {
        return format!("error {errno}");
    }
    // SAFETY: NUL-terminated, see above.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_format() {
        let e = Error::Kernel {
            context: "load prog.wasm".into(),
            errno: libc::ENOENT,
            reason: "unknown import kwasm.nope".into(),
        };
        assert_eq!(
            e.to_string(),
            "load prog.wasm: No such file or directory (errno 2): unknown import kwasm.nope"
        );
        assert_eq!(e.exit_code(), ExitCode::from(1));
        let e = Error::Kernel {
            context: "unload".into(),
            errno: libc::EPERM,
            reason: String::new(),
        };
        assert_eq!(e.to_string(), "unload: Operation not permitted (errno 1)");
    }

    #[test]
    fn missing_device_means_no_module() {
        let err = io::Error::from_raw_os_error(libc::ENOENT);
        let e = Error::module_io("open", "/dev/kwasm", err);
        assert_eq!(
            e.to_string(),
            "/dev/kwasm: No such file or directory: is the kwasm module loaded? \
             (modprobe kwasm, or make load)"
        );
        assert_eq!(e.exit_code(), ExitCode::from(3));
        let err = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(
            Error::module_io("open", "/dev/kwasm", err).exit_code(),
            ExitCode::from(1)
        );
    }
}
