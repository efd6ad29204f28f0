// SPDX-License-Identifier: GPL-2.0
//! kwasm-hostile: uploads hostile modules to /dev/kwasm and checks that each
//! fails with the expected errno and a reason naming the problem, while the
//! program loaded before keeps filtering; and checks who may use the device.
//!
//!   kwasm-hostile corpus EXAMPLES_DIR [--skip SUBSTRING]...
//!   kwasm-hostile permissions
//!   kwasm-hostile requests
//!
//! One line per check ("PASS: ..." / "FAIL: ..."), then "N passed, N failed";
//! exits 1 on any failure, 2 on usage errors.

mod corpus;

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;

use kwasm_test_support::packet;
use kwasm_uapi::{self as uapi, Device};

use corpus::{Case, Expect};

/// The program every case must leave loaded: drops TCP/UDP to port 23557.
const KEEPER: &str = r#"(module
  (import "kwasm" "pkt_dport" (func $dport (result i32)))
  (func (export "kwasm_filter") (param i32 i32) (result i32)
    (i32.ne (call $dport) (i32.const 23557))))"#;
const KEEPER_NAME: &str = "keeper";
const NOBODY: libc::uid_t = 65534;

#[derive(Default)]
struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, ok: bool, what: &str) -> bool {
        if ok {
            self.passed += 1;
            println!("PASS: {what}");
        } else {
            self.failed += 1;
            println!("FAIL: {what}");
        }
        ok
    }

    fn finish(&self) -> ExitCode {
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

fn open_device() -> io::Result<Device> {
    Device::open()
}

fn errno_of(rc: libc::c_int) -> i32 {
    if rc < 0 {
        io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

/// 0 for success, else the errno.
fn errno(result: Result<(), uapi::Errno>) -> i32 {
    result.err().map_or(0, |e| e as i32)
}

/// LOAD ioctl: (errno or 0, reason).
fn load(dev: &Device, wasm: &[u8], name: &str) -> (i32, String) {
    let mut req = uapi::kwasm_load::default();
    req.set_name(name).expect("hostile's own names fit");
    let e = errno(dev.load(wasm, &mut req));
    (e, req.reason())
}

fn unload(dev: &Device) -> i32 {
    errno(dev.unload())
}

/// TEST_RUN of the loaded program: (errno or 0, verdict).
fn test_run(dev: &Device, dport: u16) -> (i32, u32) {
    let pkt = packet::tcp(1000, dport, b"");
    let mut req = uapi::kwasm_test_run {
        repeat: 1,
        ..Default::default()
    };
    let e = errno(dev.test_run(None, &pkt, &mut req));
    (e, req.verdict)
}

/// "<key>: <value>" of /proc/kwasm.
fn status(key: &str) -> String {
    let text = fs::read_to_string(uapi::STATUS_FILE).unwrap_or_default();
    let prefix = format!("{key}: ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or("")
        .to_string()
}

/// The keeper is loaded with this hash and still drops port 23557.
fn keeper_intact(dev: &Device, sha: &str) -> Result<(), String> {
    let (program, now) = (status("program"), status("sha256"));
    if program != KEEPER_NAME || now != sha {
        return Err(format!("loaded: {program} {now}"));
    }
    match (test_run(dev, 23557), test_run(dev, 80)) {
        ((0, uapi::KWASM_DROP), (0, uapi::KWASM_ACCEPT)) => Ok(()),
        (a, b) => Err(format!("test-run gave {a:?} for 23557 and {b:?} for 80")),
    }
}

fn load_keeper(dev: &Device, report: &mut Report) -> Option<String> {
    let (e, msg) = load(dev, &wat::parse_str(KEEPER).ok()?, KEEPER_NAME);
    if !report.check(e == 0, &format!("keeper loads ({e} {msg})")) {
        return None;
    }
    let sha = status("sha256");
    let intact = keeper_intact(dev, &sha);
    report.check(intact.is_ok(), &format!("keeper filters: {intact:?}"));
    Some(sha)
}

/// Loads a case under the keeper's name: one that loads replaces the
/// keeper (and is replaced by it again), as a bad one would if it loaded.
fn run_case(dev: &Device, case: &Case, sha: &mut String, report: &mut Report) {
    let (e, msg) = load(dev, &case.wasm, KEEPER_NAME);
    let size = case.wasm.len();
    match &case.expect {
        Expect::Fail(errno, needles) => {
            let lower = msg.to_lowercase();
            let named =
                !msg.is_empty() && needles.iter().all(|n| lower.contains(&n.to_lowercase()));
            let intact = keeper_intact(dev, sha);
            let ok = e == *errno && named && intact.is_ok();
            let mut line = format!("{} ({size} bytes): errno {e} \"{msg}\"", case.name);
            if e != *errno {
                line += &format!(" [expected errno {errno}]");
            }
            if !named {
                line += &format!(" [reason lacks {needles:?}]");
            }
            if let Err(why) = intact {
                line += &format!(" [keeper not intact: {why}]");
            }
            report.check(ok, &line);
            if e == 0 {
                if let Some(new) = load_keeper(dev, report) {
                    *sha = new;
                }
            }
        }
        Expect::Loads => {
            let verdict = test_run(dev, 80);
            report.check(
                e == 0 && verdict == (0, uapi::KWASM_ACCEPT),
                &format!(
                    "{} ({size} bytes) loads: errno {e} {msg}, test-run {verdict:?}",
                    case.name
                ),
            );
            if let Some(new) = load_keeper(dev, report) {
                *sha = new;
            }
        }
    }
}

/// The write() path: a failed write (bad pointer, then the rest) and
/// garbage both load nothing at close; the keeper stays.
fn write_path(dev: &Device, sha: &str, report: &mut Report) {
    let good = wat::parse_str(corpus_accept_all()).unwrap_or_default();
    let outcome = (|| -> io::Result<(isize, i32)> {
        let f = open_device()?;
        let fd = f.as_raw_fd();
        // SAFETY: writes from a valid buffer, then from an address that is
        // never mapped (the kernel must fault, not read).
        let first = unsafe { libc::write(fd, good.as_ptr().cast(), 8) };
        let bad = unsafe { libc::write(fd, 8 as *const libc::c_void, 64) };
        let errno = errno_of(bad as libc::c_int);
        let _ = unsafe { libc::write(fd, good.as_ptr().add(8).cast(), good.len() - 8) };
        drop(f);
        Ok((first, errno))
    })();
    let last = status("last_load");
    let intact = keeper_intact(dev, sha);
    report.check(
        matches!(outcome, Ok((8, libc::EFAULT)))
            && last.starts_with("write: error -14")
            && intact.is_ok(),
        &format!(
            "write() with a bad pointer: {outcome:?}, last_load \"{last}\", keeper {intact:?}"
        ),
    );

    // Garbage: deterministic bytes after a valid header.
    let mut garbage = b"\0asm\x01\0\0\0".to_vec();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    let wrote = open_device().and_then(|f| {
        // SAFETY: a valid buffer of that length.
        let n = unsafe { libc::write(f.as_raw_fd(), garbage.as_ptr().cast(), garbage.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n)
        }
    });
    let last = status("last_load");
    let intact = keeper_intact(dev, sha);
    report.check(
        matches!(wrote, Ok(n) if n as usize == garbage.len())
            && last.starts_with("write: error -22: ")
            && last.len() > "write: error -22: ".len()
            && intact.is_ok(),
        &format!("write() of garbage: {wrote:?}, last_load \"{last}\", keeper {intact:?}"),
    );
}

fn corpus_accept_all() -> &'static str {
    r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))"#
}

fn corpus(dir: &str, skip: &[String]) -> ExitCode {
    let mut report = Report::default();
    let dev = match open_device() {
        Ok(d) => d,
        Err(e) => {
            report.check(false, &format!("open {}: {e}", uapi::DEVICE));
            return report.finish();
        }
    };
    let Some(mut sha) = load_keeper(&dev, &mut report) else {
        return report.finish();
    };
    let mut examples = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                if let Ok(bytes) = fs::read(&path) {
                    let name = path
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    examples.push((name, bytes));
                }
            }
        }
    }
    examples.sort();
    report.check(
        !examples.is_empty(),
        &format!("examples found in {dir}: {}", examples.len()),
    );

    let mut cases = corpus::truncations(&examples);
    cases.extend(corpus::leb128());
    cases.extend(corpus::limits());
    cases.extend(corpus::data_segments());
    cases.extend(corpus::exports_and_start());
    // Last: without the fuel limit this load never returns.
    cases.push(corpus::start_loops_forever());
    for case in &cases {
        if skip.iter().any(|s| case.name.contains(s.as_str())) {
            println!("SKIP: {}", case.name);
            continue;
        }
        run_case(&dev, case, &mut sha, &mut report);
    }
    write_path(&dev, &sha, &mut report);
    report.finish()
}

/// In a child: become uid/gid 65534 (which drops every capability), run
/// `f`, and exit with its success. Returns whether the child succeeded.
fn as_nobody(f: impl FnOnce() -> bool) -> bool {
    // SAFETY: fork in a single-threaded program; the child only runs f
    // and exits.
    match unsafe { libc::fork() } {
        -1 => false,
        0 => {
            // SAFETY: plain system calls on our own credentials.
            let dropped = unsafe {
                libc::setgroups(0, std::ptr::null()) == 0
                    && libc::setgid(NOBODY) == 0
                    && libc::setuid(NOBODY) == 0
            };
            let ok = dropped && f();
            // SAFETY: leave the child without running the parent's exit path.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: waits for our own child.
            let waited = unsafe { libc::waitpid(pid, &mut status, 0) } == pid;
            waited && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
        }
    }
}

fn open_errno() -> i32 {
    match open_device() {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}

fn permissions() -> ExitCode {
    let mut report = Report::default();
    let mode = fs::metadata(uapi::DEVICE).map(|m| m.permissions().mode() & 0o7777);
    let shown = mode
        .as_ref()
        .map(|m| format!("{m:o}"))
        .map_err(|e| e.to_string());
    report.check(
        matches!(mode, Ok(0o600)),
        &format!("{} has mode 0600: {shown:?}", uapi::DEVICE),
    );

    let child = as_nobody(|| {
        let e = open_errno();
        println!(
            "    uid 65534 opens {} (mode 0600): errno {e}",
            uapi::DEVICE
        );
        e == libc::EACCES
    });
    report.check(child, "uid 65534 cannot open the device: EACCES");

    let chmod = |mode| fs::set_permissions(uapi::DEVICE, fs::Permissions::from_mode(mode));
    let opened = chmod(0o666).is_ok()
        && as_nobody(|| {
            let e = open_errno();
            println!(
                "    uid 65534 opens {} (mode 0666): errno {e}",
                uapi::DEVICE
            );
            e == libc::EPERM
        });
    let restored = chmod(0o600).is_ok();
    report.check(
        opened && restored,
        "with mode 0666, uid 65534 still cannot open it: EPERM",
    );

    let dev = match open_device() {
        Ok(d) => d,
        Err(e) => {
            report.check(false, &format!("root opens the device: {e}"));
            return report.finish();
        }
    };
    let Some(sha) = load_keeper(&dev, &mut report) else {
        return report.finish();
    };
    let accept_all = wat::parse_str(corpus_accept_all()).unwrap_or_default();
    let child = as_nobody(|| {
        let (le, lmsg) = load(&dev, &accept_all, "intruder");
        let ue = unload(&dev);
        let (te, _) = test_run(&dev, 80);
        // SAFETY: a valid buffer of that length.
        let w = unsafe {
            libc::write(
                dev.as_raw_fd(),
                accept_all.as_ptr().cast(),
                accept_all.len(),
            )
        };
        let we = errno_of(w as libc::c_int);
        println!(
            "    uid 65534 with root's fd: LOAD {le} \"{lmsg}\", UNLOAD {ue}, TEST_RUN {te}, write {we}"
        );
        [le, ue, te, we].iter().all(|&e| e == libc::EPERM)
    });
    report.check(
        child,
        "root's fd after dropping to uid 65534: LOAD, UNLOAD, TEST_RUN and write() get EPERM",
    );
    // The refused write is sticky: closing the fd loads nothing.
    drop(dev);
    let dev = open_device();
    let intact = dev
        .as_ref()
        .map_err(|e| e.to_string())
        .and_then(|d| keeper_intact(d, &sha));
    report.check(
        intact.is_ok(),
        &format!("keeper still loaded and filtering: {intact:?}"),
    );
    if let Ok(d) = &dev {
        report.check(unload(d) == 0, "root can still unload");
    }
    report.finish()
}

/// A request that starts with its size (docs/ABI.md, "Map ioctls"): its
/// name, ioctl number, structure size and where its err[] is (None: the
/// reply carries no reason for a refused size).
struct Sized {
    name: &'static str,
    cmd: u32,
    size: usize,
    err: Option<usize>,
}

/// Sends `cmd` with `buf` (the caller's structure of `buf.len()` bytes).
fn raw_ioctl(dev: &Device, cmd: u32, buf: &mut [u8]) -> i32 {
    // SAFETY: a request number of this device and a buffer at least as
    // large as the size its first field claims (or the kernel's, larger).
    let ret = unsafe { libc::ioctl(dev.as_raw_fd(), cmd as _, buf.as_mut_ptr()) };
    errno_of(ret)
}

/// The NUL-terminated text at `at` of `buf`.
fn text_at(buf: &[u8], at: usize) -> String {
    let tail = buf.get(at..).unwrap_or_default();
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    String::from_utf8_lossy(&tail[..end]).into_owned()
}

/// The size rules of every sized request: a size below the kernel's
/// structure is EINVAL; above, the extra bytes must be zero (else E2BIG,
/// with a reason where the structure has room for one) and at most 4096
/// bytes in all for the map and program requests; a zero tail passes the
/// size check. No program is loaded: what passes the check fails later
/// with ENOENT or EINVAL, never E2BIG.
fn requests() -> ExitCode {
    use std::mem::{offset_of, size_of};
    let mut report = Report::default();
    let dev = match open_device() {
        Ok(d) => d,
        Err(e) => {
            report.check(false, &format!("root opens the device: {e}"));
            return report.finish();
        }
    };
    macro_rules! sized {
        ($name:literal, $cmd:expr, $ty:ty, err) => {
            Sized {
                name: $name,
                cmd: $cmd,
                size: size_of::<$ty>(),
                err: Some(offset_of!($ty, err)),
            }
        };
    }
    let kinds = [
        sized!(
            "MAP_LIST",
            uapi::KWASM_IOC_MAP_LIST,
            uapi::kwasm_map_list,
            err
        ),
        sized!(
            "MAP_LOOKUP",
            uapi::KWASM_IOC_MAP_LOOKUP,
            uapi::kwasm_map_op,
            err
        ),
        sized!(
            "MAP_DUMP",
            uapi::KWASM_IOC_MAP_DUMP,
            uapi::kwasm_map_dump,
            err
        ),
        sized!(
            "PROG_LIST",
            uapi::KWASM_IOC_PROG_LIST,
            uapi::kwasm_prog_list,
            err
        ),
        sized!(
            "PROG_UNLOAD",
            uapi::KWASM_IOC_PROG_UNLOAD,
            uapi::kwasm_prog_unload,
            err
        ),
        Sized {
            name: "EVENTS_OPEN",
            cmd: uapi::KWASM_IOC_EVENTS_OPEN,
            size: size_of::<uapi::kwasm_events_open>(),
            err: None,
        },
    ];
    for k in &kinds {
        let claim = |buf: &mut [u8], size: usize| {
            buf[..4].copy_from_slice(&(size as u32).to_le_bytes());
        };
        let mut buf = vec![0u8; k.size + 16];
        claim(&mut buf, 4);
        let e = raw_ioctl(&dev, k.cmd, &mut buf);
        report.check(
            e == libc::EINVAL,
            &format!("{}: size 4 (below {}) is EINVAL: errno {e}", k.name, k.size),
        );

        let mut buf = vec![0u8; k.size + 16];
        claim(&mut buf, k.size + 16);
        buf[k.size + 9] = 1;
        let e = raw_ioctl(&dev, k.cmd, &mut buf);
        let why = k.err.map(|at| text_at(&buf, at)).unwrap_or_default();
        report.check(
            e == libc::E2BIG && k.err.is_none_or(|_| why.contains("are not all zero")),
            &format!(
                "{}: size {} with a non-zero byte past the kernel's {} is E2BIG: errno {e} \"{why}\"",
                k.name,
                k.size + 16,
                k.size
            ),
        );

        let mut buf = vec![0u8; k.size + 16];
        claim(&mut buf, k.size + 16);
        let e = raw_ioctl(&dev, k.cmd, &mut buf);
        report.check(
            e != libc::E2BIG && e != libc::EFAULT,
            &format!(
                "{}: size {} with a zero tail passes the size check: errno {e}",
                k.name,
                k.size + 16
            ),
        );

        if k.err.is_some() {
            let mut buf = vec![0u8; 8192];
            claim(&mut buf, 8192);
            let e = raw_ioctl(&dev, k.cmd, &mut buf);
            report.check(
                e == libc::E2BIG,
                &format!("{}: size 8192 (above 4096) is E2BIG: errno {e}", k.name),
            );
        }
    }
    // The count alone, through a structure larger than the kernel's.
    let len = size_of::<uapi::kwasm_prog_list>() + 16;
    let mut buf = vec![0u8; len];
    buf[..4].copy_from_slice(&(len as u32).to_le_bytes());
    let e = raw_ioctl(&dev, uapi::KWASM_IOC_PROG_LIST, &mut buf);
    let count = u32::from_le_bytes(buf[4..8].try_into().unwrap_or_default());
    report.check(
        e == 0 && count == 0,
        &format!(
            "PROG_LIST through a larger structure counts 0 programs: errno {e}, count {count}"
        ),
    );
    report.finish()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("corpus") if args.len() >= 2 => {
            let mut skip = Vec::new();
            let mut rest = args[2..].iter();
            while let Some(a) = rest.next() {
                match (a.as_str(), rest.next()) {
                    ("--skip", Some(s)) => skip.push(s.clone()),
                    _ => return usage(),
                }
            }
            corpus(&args[1], &skip)
        }
        Some("permissions") if args.len() == 1 => permissions(),
        Some("requests") if args.len() == 1 => requests(),
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: kwasm-hostile corpus EXAMPLES_DIR [--skip SUBSTRING]... | kwasm-hostile permissions | kwasm-hostile requests");
    ExitCode::from(2)
}
