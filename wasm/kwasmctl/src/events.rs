// SPDX-License-Identifier: GPL-2.0
//! `kwasmctl events`: reads the attached program's events ring and prints
//! each record decoded through the ring's declared format.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Map, Value as Json};

use kwasm_uapi as uapi;
use kwasm_uapi::events::{self, Event, Events};
use kwasm_uapi::fmt::{hex, Format};

use crate::commands::open_device;
use crate::error::Error;
use crate::progs;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The program whose ring to read [default: the only one loaded].
    #[arg(long, value_name = "NAME")]
    pub prog: Option<String>,
    /// Stop after N records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after SECS seconds [default: at the end of the ring, when
    /// its program is unloaded].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// One JSON object per record: time_ns, cpu, prog, len, data (hex),
    /// fields.
    #[arg(long)]
    pub json: bool,
}

/// A record as a line: `time cpu prog fields`, the time in seconds of
/// CLOCK_MONOTONIC.
fn text_line(e: &Event, fmt: &Format) -> String {
    let fields: Vec<String> = fmt
        .decode(&e.data)
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "{}.{:09} {} {} {}",
        e.time_ns / 1_000_000_000,
        e.time_ns % 1_000_000_000,
        e.cpu,
        e.prog_id,
        fields.join(" ")
    )
}

/// A record as one JSON object.
fn json_line(e: &Event, fmt: &Format) -> Json {
    let fields: Map<String, Json> = fmt
        .decode(&e.data)
        .iter()
        .map(|(name, value)| (name.clone(), value.json()))
        .collect();
    json!({
        "time_ns": e.time_ns,
        "cpu": e.cpu,
        "prog": e.prog_id,
        "len": e.data.len(),
        "data": hex(&e.data),
        "fields": fields,
    })
}

/// Waits until the file is readable or `deadline` passes: false then.
fn wait(ev: &Events, deadline: Option<Instant>) -> io::Result<bool> {
    let timeout_ms = match deadline {
        None => -1,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX)
        }
    };
    let mut pfd = libc::pollfd {
        fd: ev.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the call.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match rc {
        -1 => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(true)
            } else {
                Err(err)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

fn kernel_error(context: &str, err: io::Error) -> Error {
    Error::Kernel {
        context: context.into(),
        errno: err.raw_os_error().unwrap_or(libc::EIO),
        reason: String::new(),
    }
}

pub fn events(args: &EventsArgs) -> Result<(), Error> {
    let device = open_device()?;
    // Without a timeout, read() sleeps in the kernel; with one, poll()
    // waits at most until the deadline.
    let nonblock = if args.timeout.is_some() {
        uapi::KWASM_EVENTS_NONBLOCK
    } else {
        0
    };
    let mut req = uapi::kwasm_events_open {
        prog_id: progs::resolve(&device, args.prog.as_deref(), "events")?,
        flags: nonblock | uapi::KWASM_EVENTS_CLOEXEC,
        ..Default::default()
    };
    let mut ev = device.events_open(&mut req).map_err(|errno| {
        let err = Error::Kernel {
            context: "events".into(),
            errno: errno as i32,
            reason: req.reason(),
        };
        progs::hint_prog(err, req.prog_id, "--prog")
    })?;
    drop(device);
    // The kernel checked the format at load; a tool older than it shows hex.
    let fmt = Format::parse(&req.value_fmt()).unwrap_or_default();
    let deadline = args
        .timeout
        .map(|secs| Instant::now() + Duration::from_secs(secs));
    let mut buf = vec![0u8; (req.ring_size as usize).clamp(4096, 1 << 16)];
    let mut seen = 0u64;
    let mut last_lost = 0u64;
    'reading: while args.count.is_none_or(|n| seen < n) {
        let n = match ev.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if !wait(&ev, deadline).map_err(|e| kernel_error("events: poll", e))? {
                    break;
                }
                continue;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(kernel_error("events: read", err)),
        };
        let records = events::parse(&buf[..n]).map_err(|t| Error::Kernel {
            context: "events: read".into(),
            errno: libc::EIO,
            reason: format!("a record cut short at byte {} of {n}", t.at),
        })?;
        for e in records {
            last_lost = e.lost;
            if args.json {
                println!("{}", json_line(&e, &fmt));
            } else {
                println!("{}", text_line(&e, &fmt));
            }
            seen += 1;
            if args.count.is_some_and(|c| seen >= c) {
                break 'reading;
            }
        }
    }
    // Records the ring dropped, full, since it was made.
    let lost = ev.stats().map_or(last_lost, |s| s.dropped);
    eprintln!("lost: {lost}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let mut data = 0x0a00_0002u32.to_le_bytes().to_vec();
        data.extend_from_slice(&1234u16.to_le_bytes());
        data.extend_from_slice(&23557u16.to_le_bytes());
        data.extend_from_slice(&[6, 0, 0, 0]);
        Event {
            cpu: 1,
            time_ns: 5_000_000_042,
            prog_id: 0,
            flags: 0,
            lost: 0,
            data,
        }
    }

    #[test]
    fn lines() {
        let fmt = Format::parse("saddr:ipv4,sport:port,dport:port,proto:u8,pad3").unwrap();
        assert_eq!(
            text_line(&event(), &fmt),
            "5.000000042 1 0 saddr=10.0.0.2 sport=1234 dport=23557 proto=6"
        );
        let j = json_line(&event(), &fmt);
        assert_eq!(j["time_ns"], 5_000_000_042u64);
        assert_eq!(j["len"], 12);
        assert_eq!(j["data"], "0200000ad204055c06000000");
        assert_eq!(j["fields"]["saddr"], "10.0.0.2");
        assert_eq!(j["fields"]["dport"], 23557);
        assert!(j["fields"].get("pad").is_none());
        let hexed = json_line(&event(), &Format::default());
        assert_eq!(hexed["fields"]["hex"], "0200000ad204055c06000000");
    }
}
