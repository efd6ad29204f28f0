// SPDX-License-Identifier: GPL-2.0
//! `--netns PATH|PID`: every request of kwasm acts in the network namespace
//! of the calling task, so kwasmctl enters the one asked for first.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::anyhow;
use nix::sched::{setns, CloneFlags};

use crate::error::{strerror, Error};

/// A network namespace: a file such as /run/netns/NAME or
/// /proc/PID/ns/net, or a process whose namespace it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Netns {
    Path(PathBuf),
    Pid(u32),
}

impl FromStr for Netns {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("empty: give a path such as /run/netns/NAME or a PID".into());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u32>() {
                Ok(pid) if pid > 0 => Ok(Self::Pid(pid)),
                _ => Err(format!("{s} is not a process id")),
            };
        }
        Ok(Self::Path(s.into()))
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "{}", path.display()),
            Self::Pid(pid) => write!(f, "{pid}"),
        }
    }
}

impl Netns {
    /// The namespace file to open.
    pub fn path(&self) -> PathBuf {
        match self {
            Self::Path(path) => path.clone(),
            Self::Pid(pid) => format!("/proc/{pid}/ns/net").into(),
        }
    }

    /// Why opening the namespace file failed, with what to do about it.
    fn open_error(&self, err: &io::Error) -> String {
        let path = self.path();
        let missing = matches!(
            err.raw_os_error(),
            Some(libc::ENOENT | libc::ENOTDIR | libc::ESRCH)
        );
        let err = match err.raw_os_error() {
            Some(errno) => format!("{} (errno {errno})", strerror(errno)),
            None => err.to_string(),
        };
        match self {
            Self::Pid(pid) if missing => format!("no process {pid} ({}: {err})", path.display()),
            Self::Path(p) if missing && p.components().count() == 1 => format!(
                "{}: {err} (a namespace of `ip netns` is /run/netns/{})",
                p.display(),
                p.display()
            ),
            _ => format!("{}: {err}", path.display()),
        }
    }

    /// Moves this process into the namespace: for --netns, before any
    /// request. Bad paths are input errors (exit 2); a refusal of setns()
    /// is the kernel's (exit 1).
    pub fn enter(&self) -> Result<(), Error> {
        let context = format!("--netns {self}");
        let file = File::open(self.path()).map_err(|err| {
            let reason = self.open_error(&err);
            match err.raw_os_error() {
                Some(errno @ (libc::EACCES | libc::EPERM)) => Error::Kernel {
                    context: format!("{context}: open {}", self.path().display()),
                    errno,
                    reason: String::new(),
                },
                _ => Error::input(&context, anyhow!(reason)),
            }
        })?;
        setns(&file, CloneFlags::CLONE_NEWNET).map_err(|errno| Error::Kernel {
            context: format!("{context}: setns"),
            errno: errno as i32,
            reason: setns_reason(errno, &self.path()),
        })
    }
}

/// What a failed setns(CLONE_NEWNET) means.
fn setns_reason(errno: nix::errno::Errno, path: &std::path::Path) -> String {
    use nix::errno::Errno;
    match errno {
        Errno::EINVAL => format!("{} is not a network namespace", path.display()),
        Errno::EPERM => "entering a network namespace needs CAP_SYS_ADMIN".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn arguments() {
        assert_eq!("1234".parse(), Ok(Netns::Pid(1234)));
        assert_eq!(Netns::Pid(1234).path(), PathBuf::from("/proc/1234/ns/net"));
        let blue: Netns = "/run/netns/blue".parse().unwrap();
        assert_eq!(blue, Netns::Path("/run/netns/blue".into()));
        assert_eq!(blue.path(), PathBuf::from("/run/netns/blue"));
        assert_eq!(blue.to_string(), "/run/netns/blue");
        assert_eq!(
            "/proc/1/ns/net".parse::<Netns>().unwrap().path(),
            PathBuf::from("/proc/1/ns/net")
        );
        assert_eq!("ns1".parse(), Ok(Netns::Path("ns1".into())));
        assert_eq!("./12".parse(), Ok(Netns::Path("./12".into())));
        assert!("0".parse::<Netns>().is_err());
        assert!("99999999999".parse::<Netns>().is_err());
        assert!("".parse::<Netns>().is_err());
    }

    #[test]
    fn errors_say_what_to_do() {
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        let blue: Netns = "blue".parse().unwrap();
        assert!(blue.open_error(&enoent).contains("is /run/netns/blue"));
        let pid = Netns::Pid(4_000_000);
        assert!(pid
            .open_error(&enoent)
            .starts_with("no process 4000000 (/proc/4000000/ns/net: "));
        assert!(blue
            .open_error(&enoent)
            .ends_with("(errno 2) (a namespace of `ip netns` is /run/netns/blue)"));
        assert_eq!(
            setns_reason(nix::errno::Errno::EINVAL, Path::new("/tmp/x")),
            "/tmp/x is not a network namespace"
        );
        assert!(setns_reason(nix::errno::Errno::EPERM, Path::new("x")).contains("CAP_SYS_ADMIN"));
    }

    #[test]
    fn missing_namespace_is_bad_input() {
        let ns: Netns = "/nonexistent/kwasm/ns".parse().unwrap();
        let err = ns.enter().unwrap_err();
        assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
        assert!(err
            .to_string()
            .starts_with("--netns /nonexistent/kwasm/ns: "));
        // A file that is no namespace: setns() refuses it (EINVAL), or
        // without privilege EPERM; either is the kernel's (exit 1).
        let ns: Netns = "/proc/self/status".parse().unwrap();
        let err = ns.enter().unwrap_err();
        assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
        assert!(err.to_string().contains("setns"), "{err}");
    }
}
