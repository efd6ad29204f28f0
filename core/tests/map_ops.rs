//! Map operations through the maps layer's public API (maps-api): every
//! operation and errno of each kind, the largest keys and values, a full
//! hash map, reuse of deleted entries, dumps through `next`.

use kwasm::abi::{EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC};
use kwasm::maps::decl::{Kind, MapDecl};
use kwasm::maps::{Map, MapError, Slot, ANY, EXIST, NOEXIST};
use kwasm_test_support::capi::{enter_cpu, HOST_CPUS, HOST_NR_CPU_IDS};

const CPUS: u32 = HOST_CPUS.len() as u32;

fn map(kind: Kind, key: u32, value: u32, max: u32) -> Map {
    let decl = MapDecl::new(0, "m", kind, (key, value, max), CPUS);
    Map::new(decl, CPUS).expect("allocated")
}

fn err(errno: i32) -> Result<(), MapError> {
    Err(MapError(errno))
}

fn idx(i: u32) -> [u8; 4] {
    i.to_le_bytes()
}

fn u64_at(value: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(value[offset..offset + 8].try_into().unwrap())
}

#[test]
fn flags_are_the_uapi_numbers() {
    assert_eq!((ANY, NOEXIST, EXIST), (0, 1, 2));
    assert_eq!(
        (
            kwasm::abi::KWASM_MAP_ANY,
            kwasm::abi::KWASM_MAP_NOEXIST,
            kwasm::abi::KWASM_MAP_EXIST
        ),
        (0, 1, 2)
    );
}

#[test]
fn array_operations_and_errors() {
    let m = map(Kind::Array, 4, 12, 10);
    assert_eq!((m.entries(), m.full(), m.ncpus()), (10, 0, 1));
    let mut v = [0xffu8; 12];
    assert_eq!(m.lookup(Slot::All, &idx(3), &mut v), Ok(()));
    assert_eq!(v, [0; 12], "elements start zeroed");

    let val: Vec<u8> = (1..=12).collect();
    assert_eq!(m.update(Slot::All, &idx(3), &val, ANY), Ok(()));
    assert_eq!(
        m.update(Slot::Cpu(7), &idx(4), &val, EXIST),
        Ok(()),
        "slot ignored"
    );
    assert_eq!(m.update(Slot::All, &idx(5), &val, NOEXIST), err(EEXIST));
    assert_eq!(m.update(Slot::All, &idx(10), &val, ANY), err(ENOENT));
    assert_eq!(m.update(Slot::All, &idx(u32::MAX), &val, ANY), err(ENOENT));
    assert_eq!(m.update(Slot::All, &idx(3), &val, 3), err(EINVAL));
    assert_eq!(m.update(Slot::All, &idx(3), &val[..11], ANY), err(EINVAL));
    assert_eq!(m.update(Slot::All, &[3, 0, 0], &val, ANY), err(EINVAL));
    m.lookup(Slot::All, &idx(3), &mut v).unwrap();
    assert_eq!(&v[..], &val[..]);
    m.lookup(Slot::Cpu(0), &idx(4), &mut v).unwrap();
    assert_eq!(&v[..], &val[..]);
    assert_eq!(m.lookup(Slot::All, &idx(10), &mut v), err(ENOENT));
    assert_eq!(m.lookup(Slot::All, &idx(3), &mut [0; 13]), err(EINVAL));
    assert_eq!(m.lookup(Slot::All, &[0; 5], &mut v), err(EINVAL));

    assert_eq!(m.delete(&idx(3)), err(EINVAL));
    assert_eq!(m.delete(&[0; 3]), err(EINVAL));

    // add: the u64 at an 8-aligned offset inside the value.
    assert_eq!(m.add(Slot::All, &idx(0), 0, 5), Ok(()));
    assert_eq!(m.add(Slot::All, &idx(0), 0, -7), Ok(()));
    m.lookup(Slot::All, &idx(0), &mut v).unwrap();
    assert_eq!(u64_at(&v, 0), (-2i64) as u64);
    assert_eq!(m.add(Slot::All, &idx(0), 8, 1), err(EINVAL), "8 + 8 > 12");
    assert_eq!(m.add(Slot::All, &idx(0), 4, 1), err(EINVAL), "unaligned");
    assert_eq!(m.add(Slot::All, &idx(0), u32::MAX - 7, 1), err(EINVAL));
    assert_eq!(m.add(Slot::All, &idx(10), 0, 1), err(ENOENT));
    assert_eq!(m.add(Slot::All, &[0; 8], 0, 1), err(EINVAL));

    // Dump: every index, in order.
    let (mut key, mut value) = ([0u8; 4], [0u8; 12]);
    let mut cursor = 0;
    let mut seen = Vec::new();
    while let Some(next) = m.next(cursor, &mut key, &mut value) {
        seen.push((u32::from_le_bytes(key), value));
        cursor = next;
    }
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().enumerate().all(|(i, (k, _))| *k == i as u32));
    assert_eq!(&seen[3].1[..], &val[..]);
    assert_eq!(m.next(10, &mut key, &mut value), None);
    assert_eq!(m.next(0, &mut key, &mut [0; 11]), None, "wrong length");
}

#[test]
fn array_of_largest_values() {
    let m = map(Kind::Array, 4, 4096, 3);
    let val: Vec<u8> = (0..4096).map(|i| (i * 7 % 251) as u8).collect();
    m.update(Slot::All, &idx(2), &val, ANY).unwrap();
    let mut out = vec![0u8; 4096];
    m.lookup(Slot::All, &idx(2), &mut out).unwrap();
    assert_eq!(out, val);
    m.add(Slot::All, &idx(2), 4088, 1).unwrap();
    m.lookup(Slot::All, &idx(2), &mut out).unwrap();
    assert_eq!(u64_at(&out, 4088), u64_at(&val, 4088) + 1);
    assert_eq!(m.add(Slot::All, &idx(2), 4096, 1), err(EINVAL));
}

#[test]
fn percpu_operations_and_errors() {
    let m = map(Kind::PercpuArray, 4, 16, 4);
    let n = HOST_NR_CPU_IDS as usize;
    assert_eq!((m.entries(), m.full(), m.ncpus()), (4, 0, HOST_NR_CPU_IDS));

    // User space, one CPU at a time and all at once.
    let one = [7u8; 16];
    assert_eq!(m.update(Slot::Cpu(1), &idx(0), &one, ANY), Ok(()));
    let mut v = [0u8; 16];
    m.lookup(Slot::Cpu(1), &idx(0), &mut v).unwrap();
    assert_eq!(v, one);
    m.lookup(Slot::Cpu(0), &idx(0), &mut v).unwrap();
    assert_eq!(v, [0; 16], "other CPUs untouched");
    let all: Vec<u8> = (0..n * 16).map(|i| (i / 16 + 1) as u8).collect();
    assert_eq!(m.update(Slot::All, &idx(1), &all, EXIST), Ok(()));
    let mut out = vec![0xeeu8; n * 16];
    m.lookup(Slot::All, &idx(1), &mut out).unwrap();
    for cpu in 0..n {
        let expect = if HOST_CPUS.contains(&(cpu as u32)) {
            cpu as u8 + 1
        } else {
            0
        };
        assert!(
            out[cpu * 16..][..16].iter().all(|&b| b == expect),
            "cpu {cpu}"
        );
    }

    // Errors.
    assert_eq!(
        m.update(Slot::Cpu(2), &idx(0), &one, ANY),
        err(EINVAL),
        "impossible CPU"
    );
    assert_eq!(m.update(Slot::Cpu(9), &idx(0), &one, ANY), err(EINVAL));
    assert_eq!(m.lookup(Slot::Cpu(2), &idx(0), &mut v), err(EINVAL));
    assert_eq!(m.update(Slot::Cpu(0), &idx(0), &one, NOEXIST), err(EEXIST));
    assert_eq!(m.update(Slot::Cpu(0), &idx(4), &one, ANY), err(ENOENT));
    assert_eq!(m.update(Slot::Cpu(0), &idx(0), &one, 9), err(EINVAL));
    assert_eq!(
        m.update(Slot::All, &idx(0), &one, ANY),
        err(EINVAL),
        "All: ncpus values"
    );
    assert_eq!(m.lookup(Slot::All, &idx(0), &mut v), err(EINVAL));
    assert_eq!(m.lookup(Slot::Cpu(0), &idx(4), &mut v), err(ENOENT));
    assert_eq!(m.delete(&idx(0)), err(EINVAL));
    assert_eq!(
        m.add(Slot::All, &idx(0), 0, 1),
        err(EINVAL),
        "add names one CPU"
    );
    assert_eq!(m.add(Slot::Cpu(0), &idx(0), 16, 1), err(EINVAL));
    assert_eq!(m.add(Slot::Cpu(0), &idx(9), 0, 1), err(ENOENT));

    // A program's run on CPU 3: its own slot directly; another CPU's slot
    // would need waiting for that CPU, which a run may not do.
    {
        let _run = enter_cpu(3);
        assert_eq!(m.add(Slot::Cpu(3), &idx(2), 8, 40), Ok(()));
        assert_eq!(m.add(Slot::Cpu(3), &idx(2), 8, 2), Ok(()));
        assert_eq!(m.update(Slot::Cpu(3), &idx(3), &one, ANY), Ok(()));
        m.lookup(Slot::Cpu(3), &idx(2), &mut v).unwrap();
        assert_eq!(u64_at(&v, 8), 42);
        assert_eq!(m.update(Slot::Cpu(0), &idx(3), &one, ANY), err(EBUSY));
    }
    m.add(Slot::Cpu(0), &idx(2), 8, 1).unwrap();
    m.lookup(Slot::All, &idx(2), &mut out).unwrap();
    assert_eq!(u64_at(&out, 3 * 16 + 8), 42);
    assert_eq!(u64_at(&out, 8), 1);

    // Dump: every index with all CPUs' values.
    let mut key = [0u8; 4];
    let mut cursor = 0;
    let mut count = 0;
    while let Some(next) = m.next(cursor, &mut key, &mut out) {
        assert_eq!(u32::from_le_bytes(key) as u64, cursor);
        if cursor == 1 {
            assert_eq!(out[16], 2);
        }
        cursor = next;
        count += 1;
    }
    assert_eq!(count, 4);
    assert_eq!(
        m.next(0, &mut key, &mut v),
        None,
        "one CPU's buffer is too short"
    );
}

#[test]
fn percpu_of_largest_values() {
    let m = map(Kind::PercpuArray, 4, 4096, 1);
    let n = HOST_NR_CPU_IDS as usize;
    let all: Vec<u8> = (0..n * 4096).map(|i| (i % 253) as u8).collect();
    m.update(Slot::All, &idx(0), &all, ANY).unwrap();
    let mut out = vec![0u8; n * 4096];
    m.lookup(Slot::All, &idx(0), &mut out).unwrap();
    for cpu in 0..n {
        let part = &out[cpu * 4096..][..4096];
        if HOST_CPUS.contains(&(cpu as u32)) {
            assert_eq!(part, &all[cpu * 4096..][..4096]);
        } else {
            assert!(part.iter().all(|&b| b == 0));
        }
    }
}

fn key8(i: u64) -> [u8; 8] {
    i.to_le_bytes()
}

#[test]
fn hash_operations_and_errors() {
    let m = map(Kind::Hash, 8, 16, 4);
    assert_eq!((m.entries(), m.full(), m.ncpus()), (0, 0, 1));
    let mut v = [0u8; 16];
    assert_eq!(m.lookup(Slot::All, &key8(1), &mut v), err(ENOENT));
    assert_eq!(m.update(Slot::All, &key8(1), &[1; 16], EXIST), err(ENOENT));
    assert_eq!(m.update(Slot::All, &key8(1), &[1; 16], NOEXIST), Ok(()));
    assert_eq!(
        m.update(Slot::All, &key8(1), &[2; 16], NOEXIST),
        err(EEXIST)
    );
    m.lookup(Slot::Cpu(3), &key8(1), &mut v).unwrap();
    assert_eq!(v, [1; 16]);
    assert_eq!(m.update(Slot::All, &key8(1), &[3; 16], EXIST), Ok(()));
    assert_eq!(m.update(Slot::All, &key8(2), &[4; 16], ANY), Ok(()));
    assert_eq!(m.update(Slot::All, &key8(2), &[5; 16], ANY), Ok(()));
    assert_eq!(m.entries(), 2);
    m.lookup(Slot::All, &key8(1), &mut v).unwrap();
    assert_eq!(v, [3; 16]);
    m.lookup(Slot::All, &key8(2), &mut v).unwrap();
    assert_eq!(v, [5; 16]);

    assert_eq!(m.update(Slot::All, &key8(1), &[1; 16], 3), err(EINVAL));
    assert_eq!(m.update(Slot::All, &key8(1), &[1; 15], ANY), err(EINVAL));
    assert_eq!(m.update(Slot::All, &[1; 7], &[1; 16], ANY), err(EINVAL));
    assert_eq!(m.lookup(Slot::All, &[1; 9], &mut v), err(EINVAL));
    assert_eq!(m.delete(&[1; 7]), err(EINVAL));

    // add: an absent key is inserted zeroed first.
    assert_eq!(m.add(Slot::All, &key8(3), 8, 10), Ok(()));
    assert_eq!(m.add(Slot::All, &key8(3), 8, -3), Ok(()));
    assert_eq!(m.add(Slot::All, &key8(3), 0, 1), Ok(()));
    m.lookup(Slot::All, &key8(3), &mut v).unwrap();
    assert_eq!((u64_at(&v, 0), u64_at(&v, 8)), (1, 7));
    assert_eq!(m.add(Slot::All, &key8(3), 16, 1), err(EINVAL));
    assert_eq!(m.add(Slot::All, &key8(3), 3, 1), err(EINVAL));
    assert_eq!(m.entries(), 3);

    assert_eq!(m.delete(&key8(2)), Ok(()));
    assert_eq!(m.delete(&key8(2)), err(ENOENT));
    assert_eq!(m.lookup(Slot::All, &key8(2), &mut v), err(ENOENT));
    assert_eq!(m.entries(), 2);
}

#[test]
fn full_hash_refuses_and_counts_and_reuses() {
    let m = map(Kind::Hash, 8, 8, 5);
    for i in 0..5 {
        m.update(Slot::All, &key8(i), &key8(i * 10), NOEXIST)
            .unwrap();
    }
    assert_eq!(m.entries(), 5);
    assert_eq!(m.update(Slot::All, &key8(5), &[0; 8], ANY), err(ENOSPC));
    assert_eq!(m.add(Slot::All, &key8(6), 0, 1), err(ENOSPC));
    assert_eq!(
        m.update(Slot::All, &key8(7), &[0; 8], EXIST),
        err(ENOENT),
        "not counted"
    );
    assert_eq!(m.full(), 2);
    // Present keys still update and add when full.
    m.update(Slot::All, &key8(4), &key8(44), ANY).unwrap();
    m.add(Slot::All, &key8(3), 0, 1).unwrap();
    assert_eq!(m.entries(), 5);

    // Delete and reinsert: the freed entry is reused at once, every time.
    for round in 0..20u64 {
        let gone = round % 5;
        m.delete(&key8(gone)).unwrap();
        assert_eq!(m.entries(), 4);
        let mut v = [0u8; 8];
        assert_eq!(m.lookup(Slot::All, &key8(gone), &mut v), err(ENOENT));
        m.update(Slot::All, &key8(100 + round), &key8(round), NOEXIST)
            .unwrap();
        assert_eq!(m.update(Slot::All, &key8(200), &[0; 8], ANY), err(ENOSPC));
        m.delete(&key8(100 + round)).unwrap();
        m.update(Slot::All, &key8(gone), &key8(gone * 10), NOEXIST)
            .unwrap();
    }
    assert_eq!(m.full(), 22);
    let mut v = [0u8; 8];
    for i in 0..5 {
        m.lookup(Slot::All, &key8(i), &mut v).unwrap();
        assert_eq!(u64::from_le_bytes(v), i * 10);
    }
}

/// All (key, value) pairs of a dump through `next`.
fn dump(m: &Map, key_len: usize, value_len: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let (mut key, mut value) = (vec![0u8; key_len], vec![0u8; value_len]);
    let mut cursor = 0;
    let mut all = Vec::new();
    while let Some(next) = m.next(cursor, &mut key, &mut value) {
        assert!(next > cursor);
        all.push((key.clone(), value.clone()));
        cursor = next;
    }
    all
}

#[test]
fn hash_of_largest_keys_and_values_dumps() {
    let m = map(Kind::Hash, 64, 4096, 50);
    let key = |i: u8| {
        let mut k = [0xabu8; 64];
        k[63] = i; // keys differ in their last byte only
        k
    };
    let value = |i: u8| vec![i; 4096];
    for i in 0..50 {
        m.update(Slot::All, &key(i), &value(i), NOEXIST).unwrap();
    }
    assert_eq!(m.update(Slot::All, &key(50), &value(50), ANY), err(ENOSPC));
    let mut out = vec![0u8; 4096];
    for i in 0..50 {
        m.lookup(Slot::All, &key(i), &mut out).unwrap();
        assert_eq!(out, value(i));
    }
    for i in (0..50).step_by(2) {
        m.delete(&key(i)).unwrap();
    }
    let mut all = dump(&m, 64, 4096);
    assert_eq!(all.len(), 25);
    assert_eq!(m.entries(), 25);
    all.sort();
    for (n, (k, v)) in all.iter().enumerate() {
        let i = (2 * n + 1) as u8;
        assert_eq!(k[..], key(i)[..]);
        assert_eq!(v[..], value(i)[..]);
    }
    assert_eq!(m.next(0, &mut [0; 63], &mut out), None, "wrong key length");
}

#[test]
fn hash_of_many_keys() {
    let m = map(Kind::Hash, 4, 8, 1000);
    for i in 0..1000u32 {
        m.update(
            Slot::All,
            &i.to_le_bytes(),
            &u64::from(i).to_le_bytes(),
            NOEXIST,
        )
        .unwrap();
    }
    assert_eq!(
        m.update(Slot::All, &1000u32.to_le_bytes(), &[0; 8], ANY),
        err(ENOSPC)
    );
    for i in (0..1000u32).filter(|i| i % 3 == 0) {
        m.delete(&i.to_le_bytes()).unwrap();
    }
    let all = dump(&m, 4, 8);
    assert_eq!(all.len() as u64, m.entries());
    assert_eq!(all.len(), 1000 - 334);
    for (k, v) in &all {
        let i = u32::from_le_bytes(k[..].try_into().unwrap());
        assert_ne!(i % 3, 0);
        assert_eq!(u64::from_le_bytes(v[..].try_into().unwrap()), u64::from(i));
    }
    for i in 0..1000u32 {
        let mut v = [0u8; 8];
        let r = m.lookup(Slot::All, &i.to_le_bytes(), &mut v);
        assert_eq!(r.is_ok(), i % 3 != 0, "key {i}");
    }
    // Refill: exactly the deleted count fits again.
    let mut added = 0;
    for i in 1000..2000u32 {
        if m.update(Slot::All, &i.to_le_bytes(), &[0; 8], NOEXIST)
            .is_ok()
        {
            added += 1;
        }
    }
    assert_eq!(added, 334);
    assert_eq!(m.entries(), 1000);
}

#[test]
fn hash_one_byte_key_one_entry() {
    let m = map(Kind::Hash, 1, 1, 1);
    m.update(Slot::All, &[9], &[1], ANY).unwrap();
    assert_eq!(m.update(Slot::All, &[8], &[1], ANY), err(ENOSPC));
    m.add(Slot::All, &[9], 0, 1).unwrap_err();
    let mut v = [0u8];
    m.lookup(Slot::All, &[9], &mut v).unwrap();
    assert_eq!(v, [1]);
    assert_eq!(dump(&m, 1, 1), vec![(vec![9], vec![1])]);
    m.delete(&[9]).unwrap();
    assert!(dump(&m, 1, 1).is_empty());
    m.update(Slot::All, &[8], &[2], NOEXIST).unwrap();
    assert_eq!(dump(&m, 1, 1), vec![(vec![8], vec![2])]);
}

#[test]
fn events_have_no_operations_yet() {
    let m = map(Kind::Events, 0, 64, 4096);
    let mut v = [0u8; 64];
    assert_eq!(m.lookup(Slot::All, &[], &mut v), err(EINVAL));
    assert_eq!(m.update(Slot::All, &[], &v, ANY), err(EINVAL));
    assert_eq!(m.delete(&[]), err(EINVAL));
    assert_eq!(m.add(Slot::All, &[], 0, 1), err(EINVAL));
    assert_eq!(m.next(0, &mut [], &mut v), None);
    assert_eq!((m.entries(), m.full(), m.ncpus()), (0, 0, 1));
}
