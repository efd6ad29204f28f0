//! Events rings: the `event_output` host function and the reader's side
//! through the core's C interface (as shim/events.c calls it), and the
//! ring itself hammered from threads through the core's Rust API.

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kwasm::maps::ring::{Reader, Ring, DETACHED, READABLE};
use kwasm_test_support::capi::*;

extern "C" {
    fn kwasm_host_waker_kicks(waker: *const kwasm_waker) -> u64;
}

/// Writes one event per run: the packet is `[0..4] len, [4..8] ptr,
/// payload...`, copied to linear memory at 0, so the payload is at 8; the
/// run returns what event_output returned.
const DRIVER: &str = r#"
(module
  (import "kwasm" "pkt_load_bytes" (func $load (param i32 i32 i32) (result i32)))
  (import "kwasm" "pkt_len" (func $len (result i32)))
  (import "kwasm" "event_output" (func $out (param i32 i32) (result i32)))
  (memory 1)
  (func (export "kwasm_filter") (param i32 i32) (result i32)
    (drop (call $load (i32.const 0) (i32.const 0) (call $len)))
    (call $out (i32.load (i32.const 4)) (i32.load (i32.const 0)))))
"#;

const RING: u32 = 4096;
const RECORD: u32 = 16;

fn ring_decl(record: u32, size: u32) -> Vec<u8> {
    let mut d = kwasm_map_decl::new(KWASM_MAP_KIND_EVENTS, 5, "ev", 0, record, size).unwrap();
    d.set_value_fmt("a:u64,b:u64").unwrap();
    if record != 16 {
        d.set_value_fmt("").unwrap();
    }
    d.to_bytes().to_vec()
}

fn driver_with(decls: &[u8], fuel: u64) -> Prog {
    let wat = wat::parse_str(DRIVER).unwrap();
    let wasm = if decls.is_empty() {
        wat
    } else {
        with_custom_section(wat, "kwasm.maps", decls)
    };
    let mut o = opts(256, KWASM_ACCEPT);
    o.fuel = fuel;
    load_bytes(&wasm, &o).expect("driver loads")
}

fn driver() -> Prog {
    driver_with(&ring_decl(RECORD, RING), KWASM_DEFAULT_FUEL)
}

fn packet(len: u32, ptr: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = len.to_le_bytes().to_vec();
    p.extend_from_slice(&ptr.to_le_bytes());
    p.extend_from_slice(payload);
    p
}

/// One event of `payload` (its length) from CPU `cpu`: what the call returned.
#[track_caller]
fn emit(p: &Prog, cpu: u32, payload: &[u8]) -> i64 {
    let r = p.run_on(cpu, &packet(payload.len() as u32, 8, payload));
    assert_ne!(r.outcome, KWASM_OUTCOME_TRAP, "trap {}", trap_name(r.trap));
    r.retval
}

const ENOSPC: i64 = -28;

/// The reader's handle, as the shim holds it.
struct Events(*mut kwasm_events);

impl Drop for Events {
    fn drop(&mut self) {
        // SAFETY: ours, from kwasm_core_events_open, closed once.
        unsafe { kwasm_core_events_close(self.0) }
    }
}

fn open(p: &Prog) -> Result<Events, (i32, String)> {
    let mut out = ptr::null_mut();
    let mut err = [0x55 as c_char; KWASM_ERR_LEN as usize];
    // SAFETY: a live program, writable result and buffer.
    let rc = unsafe { kwasm_core_events_open(p.as_ptr(), &mut out, err.as_mut_ptr(), err.len()) };
    if rc == 0 {
        assert!(!out.is_null());
        return Ok(Events(out));
    }
    assert!(out.is_null());
    let bytes: Vec<u8> = err.iter().map(|&c| c as u8).collect();
    let msg = CStr::from_bytes_until_nul(&bytes).unwrap();
    Err((-rc, msg.to_string_lossy().into_owned()))
}

fn info(p: &Prog) -> Option<kwasm_events_info> {
    let mut info = kwasm_events_info::default();
    // SAFETY: a live program, a writable info.
    let rc = unsafe { kwasm_core_events_info(p.as_ptr(), &mut info) };
    (rc == 0).then_some(info)
}

impl Events {
    /// Peeks into a buffer of `len` bytes: the bytes or the negative errno.
    fn peek(&self, len: usize) -> Result<Vec<u8>, i64> {
        let mut buf = vec![0u8; len];
        // SAFETY: a live reader, a writable buffer of len bytes.
        let n = unsafe { kwasm_core_events_peek(self.0, buf.as_mut_ptr(), len) };
        if n < 0 {
            return Err(n);
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn consume(&self, bytes: usize) {
        // SAFETY: a live reader.
        unsafe { kwasm_core_events_consume(self.0, bytes) }
    }

    /// Reads (peek + consume) with a buffer of `len` bytes.
    fn read(&self, len: usize) -> Vec<Event> {
        let bytes = self.peek(len).expect("read");
        self.consume(bytes.len());
        parse(&bytes)
    }

    fn poll(&self) -> u32 {
        // SAFETY: a live reader.
        unsafe { kwasm_core_events_poll(self.0) }
    }

    fn stats(&self) -> kwasm_events_info {
        let mut info = kwasm_events_info::default();
        // SAFETY: a live reader, a writable info.
        unsafe { kwasm_core_events_stats(self.0, &mut info) };
        info
    }

    fn kicks(&self) -> u64 {
        // SAFETY: the host's waker of a live reader's ring.
        unsafe { kwasm_host_waker_kicks(kwasm_core_events_waker(self.0)) }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Event {
    len: u32,
    cpu: u32,
    time_ns: u64,
    prog_id: u32,
    flags: u32,
    lost: u64,
    payload: Vec<u8>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The records of a read, checked to be whole and zero-padded.
fn parse(mut b: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = u32_at(b, 0);
        let size = 32 + (len as usize).div_ceil(8) * 8;
        assert!(b.len() >= size, "a record cut short");
        let payload = b[32..32 + len as usize].to_vec();
        assert!(
            b[32 + len as usize..size].iter().all(|&x| x == 0),
            "padding"
        );
        out.push(Event {
            len,
            cpu: u32_at(b, 4),
            time_ns: u64_at(b, 8),
            prog_id: u32_at(b, 16),
            flags: u32_at(b, 20),
            lost: u64_at(b, 24),
            payload,
        });
        b = &b[size..];
    }
    out
}

fn payload(seq: u64) -> Vec<u8> {
    let mut p = seq.to_le_bytes().to_vec();
    p.extend_from_slice(&(!seq).to_le_bytes());
    p
}

#[test]
fn records_hold_what_the_program_wrote() {
    let p = driver();
    let ev = open(&p).unwrap();
    assert_eq!(ev.peek(4096).unwrap(), Vec::<u8>::new());
    assert_eq!(emit(&p, 1, &payload(7)), 0);
    assert_eq!(emit(&p, 3, b"abc"), 0);
    let got = ev.read(4096);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (
            got[0].len,
            got[0].cpu,
            got[0].prog_id,
            got[0].flags,
            got[0].lost
        ),
        (16, 1, 0, 0, 0)
    );
    assert_eq!(got[0].payload, payload(7));
    assert_eq!(
        (got[1].len, got[1].cpu, &got[1].payload[..]),
        (3, 3, &b"abc"[..])
    );
    assert!(got[0].time_ns > 0 && got[1].time_ns >= got[0].time_ns);
    // Consumed: nothing left.
    assert_eq!(ev.peek(4096).unwrap().len(), 0);
    let s = ev.stats();
    assert_eq!(
        (s.ring_size, s.max_record, s.written, s.dropped, s.used),
        (RING, RECORD, 2, 0, 0)
    );
    assert_eq!(s.reader, 1);
}

#[test]
fn a_buffer_too_small_for_the_next_record_is_einval() {
    let p = driver();
    let ev = open(&p).unwrap();
    assert_eq!(emit(&p, 0, &payload(1)), 0);
    assert_eq!(emit(&p, 0, &payload(2)), 0);
    assert_eq!(ev.peek(47), Err(-22));
    // Room for one: one, whole; the second stays.
    assert_eq!(ev.read(48 + 47).len(), 1);
    let rest = ev.read(4096);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].payload, payload(2));
}

#[test]
fn a_full_ring_drops_counts_and_wraps() {
    let p = driver();
    let ev = open(&p).unwrap();
    // 48 bytes a record: 85 fit in 4096.
    for i in 0..85 {
        assert_eq!(emit(&p, 0, &payload(i)), 0, "record {i}");
    }
    assert_eq!(emit(&p, 0, &payload(85)), ENOSPC);
    assert_eq!(emit(&p, 1, &payload(86)), ENOSPC);
    let s = ev.stats();
    assert_eq!((s.written, s.dropped, s.used), (85, 2, 85 * 48));
    assert_eq!(p.stats().traps, 0);

    // Read 10: room for 10 more, which wrap around the end.
    let first = ev.read(480);
    assert_eq!(first.len(), 10);
    assert_eq!(first[9].payload, payload(9));
    for i in 100..110 {
        assert_eq!(emit(&p, 0, &payload(i)), 0);
    }
    assert_eq!(emit(&p, 0, &payload(110)), ENOSPC);
    // Everything left in order; the records after the drops say how many
    // were lost before them.
    let mut all = Vec::new();
    loop {
        let got = ev.read(1000);
        if got.is_empty() {
            break;
        }
        all.extend(got);
    }
    let seqs: Vec<u64> = all.iter().map(|e| u64_at(&e.payload, 0)).collect();
    let want: Vec<u64> = (10..85).chain(100..110).collect();
    assert_eq!(seqs, want);
    assert!(all
        .iter()
        .all(|e| u64_at(&e.payload, 8) == !u64_at(&e.payload, 0)));
    assert_eq!(all[0].lost, 0);
    assert_eq!(all.last().unwrap().lost, 2);
    let s = ev.stats();
    assert_eq!((s.written, s.dropped, s.used), (95, 3, 0));
    // Many laps.
    for lap in 0..200u64 {
        assert_eq!(emit(&p, 0, &payload(lap)), 0);
        assert_eq!(emit(&p, 0, b"x"), 0);
        let got = ev.read(4096);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].payload, payload(lap));
        assert_eq!(got[1].payload, b"x");
    }
}

#[test]
fn one_reader_and_wakeups() {
    let p = driver();
    let ev = open(&p).unwrap();
    let (errno, msg) = open(&p).err().unwrap();
    assert_eq!(errno, 16, "{msg}");
    assert!(msg.contains("has a reader already"), "{msg}");

    // No reader waiting: a commit kicks nobody.
    assert_eq!(emit(&p, 0, b"1"), 0);
    assert_eq!(ev.kicks(), 0);
    assert_eq!(ev.poll(), READABLE);
    ev.read(4096);
    // Waiting (poll found nothing): the next commit kicks once.
    assert_eq!(ev.poll(), 0);
    assert_eq!(emit(&p, 0, b"2"), 0);
    assert_eq!(emit(&p, 0, b"3"), 0);
    assert_eq!(ev.kicks(), 1);
    assert_eq!(ev.read(4096).len(), 2);
    drop(ev);
    let ev = open(&p).expect("a reader again after close");
    assert_eq!(info(&p).unwrap().reader, 1);
    drop(ev);
    assert_eq!(info(&p).unwrap().reader, 0);
}

#[test]
fn the_reader_reads_on_after_the_program_and_then_the_end() {
    let p = driver();
    let ev = open(&p).unwrap();
    assert_eq!(emit(&p, 0, b"last words"), 0);
    assert_eq!(ev.poll(), READABLE);
    let kicks = ev.kicks();
    drop(p);
    // Detached: woken (it was waiting), reads what is left, then the end.
    assert_eq!(ev.kicks(), kicks + 1);
    assert_eq!(ev.poll(), READABLE | DETACHED);
    let got = ev.read(4096);
    assert_eq!(got[0].payload, b"last words");
    assert_eq!(ev.poll(), DETACHED);
    assert_eq!(ev.peek(4096).unwrap().len(), 0);
    assert_eq!(ev.stats().detached, 1);
}

#[test]
fn info_of_programs_with_and_without_a_ring() {
    let p = driver();
    let i = info(&p).unwrap();
    assert_eq!(
        (i.ring_size, i.max_record, i.written, i.reader),
        (RING, RECORD, 0, 0)
    );
    let fmt: Vec<u8> = i
        .value_fmt
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    assert_eq!(fmt, b"a:u64,b:u64");
    let plain = load_ok(
        r#"(module (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))"#,
    );
    assert!(info(&plain).is_none());
    let (errno, msg) = open(&plain).err().unwrap();
    assert_eq!(errno, 2);
    assert_eq!(msg, "program test declares no events ring");
}

#[test]
fn calls_that_cannot_be_right_trap() {
    let p = driver();
    for (what, packet) in [
        ("length 0", packet(0, 8, b"")),
        ("longer than the declared record", packet(17, 8, &[1; 17])),
        ("outside linear memory", packet(16, 65530, &[])),
        (
            "length past the end of memory",
            packet(16, u32::MAX - 3, &[]),
        ),
    ] {
        let r = p.run(&packet);
        assert_eq!(
            (r.outcome, trap_name(r.trap).as_str()),
            (KWASM_OUTCOME_TRAP, "host"),
            "{what}"
        );
    }
    assert_eq!(info(&p).unwrap().written, 0);

    // No ring declared (another map is).
    let hash = kwasm_map_decl::new(KWASM_MAP_KIND_HASH, 0, "h", 4, 4, 4).unwrap();
    let p = driver_with(&hash.to_bytes(), KWASM_DEFAULT_FUEL);
    assert_trap(&p.run(&packet(1, 8, b"x")), KWASM_TRAP_HOST);
    let p = driver_with(&[], KWASM_DEFAULT_FUEL);
    assert_trap(&p.run(&packet(1, 8, b"x")), KWASM_TRAP_HOST);

    // Outside a packet run: the start function fails the load.
    let start = r#"
    (module
      (import "kwasm" "event_output" (func $out (param i32 i32) (result i32)))
      (memory 1)
      (func $start (drop (call $out (i32.const 0) (i32.const 4))))
      (start $start)
      (func (export "kwasm_filter") (param i32 i32) (result i32) i32.const 1))
    "#;
    let wasm = with_custom_section(
        wat::parse_str(start).unwrap(),
        "kwasm.maps",
        &ring_decl(16, 4096),
    );
    let Err((errno, msg)) = load_bytes(&wasm, &opts(256, KWASM_ACCEPT)) else {
        panic!("event_output in the start function loaded");
    };
    assert_eq!(errno, 22, "{msg}");
    assert!(msg.contains("start function"), "{msg}");
}

#[test]
fn calls_charge_fuel_before_writing() {
    let decl = ring_decl(64, 4096);
    let p = driver_with(&decl, KWASM_DEFAULT_FUEL);
    let used = |len: u32| {
        let r = p.run(&packet(len, 8, &vec![7; len as usize]));
        assert_eq!(r.retval, 0);
        r.fuel_used
    };
    // 12 + ceil(len / 16): the same for 1 and 16, one more per 16 bytes.
    let (one, sixteen, seventeen, sixty_four) = (used(1), used(16), used(17), used(64));
    assert_eq!(sixteen, one);
    assert_eq!(seventeen, one + 1);
    assert_eq!(sixty_four, one + 3);
    // Short of fuel by one unit: out_of_fuel, nothing written.
    let budget = one - 1;
    let p = driver_with(&decl, budget);
    let ev = open(&p).unwrap();
    let r = p.run(&packet(1, 8, b"x"));
    assert_eq!(trap_name(r.trap), "out_of_fuel");
    assert_eq!(ev.peek(4096).unwrap().len(), 0);
    assert_eq!(ev.stats().written, 0);
    // With exactly enough, it is written.
    let p = driver_with(&decl, one);
    let r = p.run(&packet(1, 8, b"x"));
    assert_eq!((r.outcome, r.retval), (KWASM_OUTCOME_OK, 0));
    assert_eq!(info(&p).unwrap().written, 1);
}

/// Threads write records while one reads them all: every record whole and
/// in per-thread order, written + dropped = what was tried, the reader got
/// exactly the written ones.
#[test]
fn producers_on_threads_and_a_reader() {
    use kwasm::ffi::services::Words;
    const THREADS: u64 = 4;
    const EACH: u64 = 20_000;
    let ring = Arc::new(Ring::new(Words::zeroed(512).unwrap(), 24).unwrap());
    let reader: Reader = ring.reader().unwrap();
    assert!(ring.reader().is_none());
    let done = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let (mut ok, mut full) = (0u64, 0u64);
                for seq in 0..EACH {
                    // Sizes 8, 16, 24: records of 40, 48, 56 bytes.
                    let len = 8 * (1 + (seq % 3) as usize);
                    let mut p = Vec::with_capacity(len);
                    for _ in 0..len / 8 {
                        p.extend_from_slice(&(t << 32 | seq).to_le_bytes());
                    }
                    match ring.output(t as u32, 0, &p) {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            assert_eq!(e.0, 28);
                            full += 1;
                        }
                    }
                }
                (ok, full)
            })
        })
        .collect();
    let consumer = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut last = [None::<u64>; THREADS as usize];
            let mut got = 0u64;
            let mut buf = vec![0u8; 300];
            loop {
                let finished = done.load(Ordering::Acquire);
                let n = reader.peek(&mut buf).unwrap();
                reader.consume(n as u64);
                for e in parse(&buf[..n]) {
                    assert!(e.payload.len() % 8 == 0 && !e.payload.is_empty());
                    let word = u64_at(&e.payload, 0);
                    for w in e.payload.chunks(8) {
                        assert_eq!(
                            u64::from_le_bytes(w.try_into().unwrap()),
                            word,
                            "torn record"
                        );
                    }
                    let (t, seq) = (word >> 32, word & 0xffff_ffff);
                    assert_eq!(u64::from(e.cpu), t);
                    assert_eq!(e.payload.len(), 8 * (1 + (seq % 3) as usize));
                    if let Some(prev) = last[t as usize] {
                        assert!(seq > prev, "out of order");
                    }
                    last[t as usize] = Some(seq);
                    got += 1;
                }
                if n == 0 && finished {
                    return (got, reader);
                }
            }
        })
    };
    let (mut ok, mut full) = (0, 0);
    for p in producers {
        let (o, f) = p.join().unwrap();
        ok += o;
        full += f;
    }
    done.store(true, Ordering::Release);
    let (got, reader) = consumer.join().unwrap();
    let s = ring.stats();
    assert_eq!(ok + full, THREADS * EACH);
    assert_eq!((s.written, s.dropped), (ok, full));
    assert_eq!(got, ok);
    assert_eq!(s.used, 0);
    assert!(ok > 0);
    drop(reader);
    assert!(!ring.stats().reader);
}

/// wasm/examples/drop_events.c (when `make -C wasm` built it): an event per
/// dropped TCP packet to 23557, none for the others.
#[test]
fn drop_events_example() {
    use kwasm_test_support::packet::Ipv4;
    use std::net::Ipv4Addr;
    let Some(wasm) = kwasm_test_support::built_example("drop_events") else {
        return;
    };
    let p = load_bytes(&wasm, &opts(256, KWASM_ACCEPT)).expect("loads");
    let i = info(&p).unwrap();
    assert_eq!((i.ring_size, i.max_record), (65536, 12));
    let ev = open(&p).unwrap();
    let ip = Ipv4::new(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 1));
    assert_eq!(p.run(&ip.tcp(40000, 80, b"")).verdict, KWASM_ACCEPT);
    assert_eq!(p.run(&ip.udp(40000, 23557, b"")).verdict, KWASM_ACCEPT);
    assert_eq!(p.run_on(1, &ip.tcp(40001, 23557, b"x")).verdict, KWASM_DROP);
    let got = ev.read(4096);
    assert_eq!(got.len(), 1);
    let mut want = 0x0a00_0001u32.to_le_bytes().to_vec();
    want.extend_from_slice(&40001u16.to_le_bytes());
    want.extend_from_slice(&23557u16.to_le_bytes());
    want.extend_from_slice(&[6, 0, 0, 0]);
    assert_eq!((got[0].cpu, &got[0].payload), (1, &want));
}
