//! Maps under concurrency: threads hammering update, lookup, add and delete
//! on each kind. Writers store values whose words are all equal; readers
//! assert that every value they get has all words equal (a torn read
//! would mix two writes). Counters updated with `add` end exact.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use kwasm::abi::{ENOENT, ENOSPC};
use kwasm::maps::decl::{Kind, MapDecl};
use kwasm::maps::{Map, MapError, Slot, ANY};
use kwasm_test_support::capi::{enter_cpu, HOST_CPUS, HOST_NR_CPU_IDS};

const CPUS: u32 = HOST_CPUS.len() as u32;
const ROUNDS: u64 = 20_000;

fn map(kind: Kind, key: u32, value: u32, max: u32) -> Arc<Map> {
    let decl = MapDecl::new(0, "m", kind, (key, value, max), CPUS);
    Arc::new(Map::new(decl, CPUS).expect("allocated"))
}

/// A value of `len` bytes whose words are all `word`.
fn value(word: u64, len: usize) -> Vec<u8> {
    word.to_le_bytes()
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// The value's words, asserted all equal (a torn read is not).
fn untorn(v: &[u8]) -> u64 {
    let first = u64::from_le_bytes(v[..8].try_into().unwrap());
    for (i, w) in v.chunks(8).enumerate() {
        assert_eq!(
            u64::from_le_bytes(w.try_into().unwrap()),
            first,
            "torn value: word {i}"
        );
    }
    first
}

/// A small xorshift, per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn array_writers_readers_adders() {
    const LEN: usize = 512;
    const MAX: u32 = 4;
    let m = map(Kind::Array, 4, LEN as u32, MAX);
    let counters = map(Kind::Array, 4, 16, 2);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..2u64 {
        let m = m.clone();
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0x9e37 + t);
            for _ in 0..ROUNDS {
                let i = (rng.next() % u64::from(MAX)) as u32;
                m.update(Slot::All, &i.to_le_bytes(), &value(rng.next(), LEN), ANY)
                    .unwrap();
            }
        }));
    }
    let mut readers = Vec::new();
    for t in 0..2u64 {
        let (m, stop) = (m.clone(), stop.clone());
        readers.push(thread::spawn(move || {
            let mut rng = Rng(0x1234 + t);
            let mut out = vec![0u8; LEN];
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 1000 {
                let i = (rng.next() % u64::from(MAX)) as u32;
                m.lookup(Slot::All, &i.to_le_bytes(), &mut out).unwrap();
                untorn(&out);
                reads += 1;
            }
        }));
    }
    for t in 0..3i64 {
        let c = counters.clone();
        threads.push(thread::spawn(move || {
            for _ in 0..ROUNDS {
                c.add(Slot::All, &0u32.to_le_bytes(), 0, 1).unwrap();
                c.add(Slot::All, &1u32.to_le_bytes(), 8, -(t + 1)).unwrap();
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let mut out = [0u8; 16];
    counters
        .lookup(Slot::All, &0u32.to_le_bytes(), &mut out)
        .unwrap();
    assert_eq!(u64::from_le_bytes(out[..8].try_into().unwrap()), 3 * ROUNDS);
    counters
        .lookup(Slot::All, &1u32.to_le_bytes(), &mut out)
        .unwrap();
    assert_eq!(
        i64::from_le_bytes(out[8..].try_into().unwrap()),
        -6 * ROUNDS as i64
    );
}

#[test]
fn percpu_programs_user_space_and_readers() {
    const LEN: usize = 256;
    let m = map(Kind::PercpuArray, 4, LEN as u32, 2);
    let n = HOST_NR_CPU_IDS as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    // One "program" per possible CPU: its own slot, BHs off (entered).
    for &cpu in &HOST_CPUS {
        let m = m.clone();
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0x55 + u64::from(cpu));
            for round in 0..ROUNDS {
                let _run = enter_cpu(cpu);
                m.update(
                    Slot::Cpu(cpu),
                    &0u32.to_le_bytes(),
                    &value(rng.next(), LEN),
                    ANY,
                )
                .unwrap();
                m.add(Slot::Cpu(cpu), &1u32.to_le_bytes(), 0, 1).unwrap();
                if round.is_multiple_of(64) {
                    let mut out = vec![0u8; LEN];
                    m.lookup(Slot::Cpu(cpu), &0u32.to_le_bytes(), &mut out)
                        .unwrap();
                    untorn(&out);
                }
            }
        }));
    }
    // User space writing one CPU's slot and all of them.
    {
        let m = m.clone();
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0x77);
            for round in 0..ROUNDS / 4 {
                let word = rng.next();
                if round.is_multiple_of(2) {
                    let cpu = HOST_CPUS[(word % 3) as usize];
                    m.update(Slot::Cpu(cpu), &0u32.to_le_bytes(), &value(word, LEN), ANY)
                        .unwrap();
                } else {
                    m.update(Slot::All, &0u32.to_le_bytes(), &value(word, n * LEN), ANY)
                        .unwrap();
                }
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (m, stop) = (m.clone(), stop.clone());
        readers.push(thread::spawn(move || {
            let mut all = vec![0u8; n * LEN];
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 1000 {
                m.lookup(Slot::All, &0u32.to_le_bytes(), &mut all).unwrap();
                for part in all.chunks(LEN) {
                    untorn(part);
                }
                reads += 1;
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let mut all = vec![0u8; n * LEN];
    m.lookup(Slot::All, &1u32.to_le_bytes(), &mut all).unwrap();
    for (cpu, part) in all.chunks(LEN).enumerate() {
        let expect = if HOST_CPUS.contains(&(cpu as u32)) {
            ROUNDS
        } else {
            0
        };
        assert_eq!(
            u64::from_le_bytes(part[..8].try_into().unwrap()),
            expect,
            "cpu {cpu}"
        );
    }
}

#[test]
fn hash_insert_delete_lookup_add() {
    const LEN: usize = 128;
    const KEYS: u64 = 48;
    const MAX: u32 = 32; // fewer entries than keys: inserts meet a full map
    let m = map(Kind::Hash, 8, LEN as u32, MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..3u64 {
        let m = m.clone();
        threads.push(thread::spawn(move || {
            let mut rng = Rng(0xabc + t);
            for _ in 0..ROUNDS {
                let r = rng.next();
                let k = r % KEYS;
                // Words all equal, carrying the key: a reader must never
                // get another key's value (an entry reused under it).
                let word = k << 32 | (r >> 40);
                match r >> 62 {
                    0 | 1 => match m.update(Slot::All, &k.to_le_bytes(), &value(word, LEN), ANY) {
                        Ok(()) | Err(MapError(ENOSPC)) => {}
                        Err(e) => panic!("update: {e:?}"),
                    },
                    _ => match m.delete(&k.to_le_bytes()) {
                        Ok(()) | Err(MapError(ENOENT)) => {}
                        Err(e) => panic!("delete: {e:?}"),
                    },
                }
            }
        }));
    }
    let mut readers = Vec::new();
    for t in 0..2u64 {
        let (m, stop) = (m.clone(), stop.clone());
        readers.push(thread::spawn(move || {
            let mut rng = Rng(0xdef + t);
            let mut out = vec![0u8; LEN];
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 1000 {
                let k = rng.next() % KEYS;
                match m.lookup(Slot::All, &k.to_le_bytes(), &mut out) {
                    Ok(()) => assert_eq!(untorn(&out) >> 32, k, "another key's value"),
                    Err(MapError(ENOENT)) => {}
                    Err(e) => panic!("lookup: {e:?}"),
                }
                // A dump meanwhile: consistent entries, each key at most once.
                if reads.is_multiple_of(256) {
                    let (mut key, mut seen) = ([0u8; 8], 0u64);
                    let mut cursor = 0;
                    while let Some(next) = m.next(cursor, &mut key, &mut out) {
                        let k = u64::from_le_bytes(key);
                        assert_eq!(untorn(&out) >> 32, k, "dumped key and value disagree");
                        seen += 1;
                        cursor = next;
                    }
                    assert!(seen <= u64::from(MAX));
                }
                reads += 1;
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    // Quiet now: entries() is exact and the free list whole.
    let mut cursor = 0;
    let (mut key, mut out) = ([0u8; 8], vec![0u8; LEN]);
    let mut present = Vec::new();
    while let Some(next) = m.next(cursor, &mut key, &mut out) {
        present.push(u64::from_le_bytes(key));
        cursor = next;
    }
    assert_eq!(present.len() as u64, m.entries());
    present.sort();
    present.dedup();
    assert_eq!(present.len() as u64, m.entries(), "a key twice");
    let mut fresh = 0;
    for k in 1000..1000 + u64::from(MAX) {
        if m.update(Slot::All, &k.to_le_bytes(), &value(k << 32, LEN), ANY)
            .is_ok()
        {
            fresh += 1;
        }
    }
    assert_eq!(fresh + present.len() as u64, u64::from(MAX));
    assert_eq!(m.entries(), u64::from(MAX));
    assert!(m.full() > 0);
}

#[test]
fn hash_add_counts_exactly() {
    const KEYS: u64 = 64;
    let m = map(Kind::Hash, 8, 16, KEYS as u32);
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let m = m.clone();
        threads.push(thread::spawn(move || {
            for round in 0..ROUNDS {
                let k = (round + t) % KEYS;
                m.add(Slot::All, &k.to_le_bytes(), 0, 1).unwrap();
                m.add(Slot::All, &k.to_le_bytes(), 8, 2).unwrap();
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(m.entries(), KEYS);
    let (mut total1, mut total2) = (0, 0);
    let mut out = [0u8; 16];
    for k in 0..KEYS {
        m.lookup(Slot::All, &k.to_le_bytes(), &mut out).unwrap();
        total1 += u64::from_le_bytes(out[..8].try_into().unwrap());
        total2 += u64::from_le_bytes(out[8..].try_into().unwrap());
    }
    assert_eq!((total1, total2), (4 * ROUNDS, 8 * ROUNDS));
    assert_eq!(m.full(), 0);
}
