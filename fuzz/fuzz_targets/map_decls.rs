//! The `kwasm.maps` section parser (core/src/maps/decl.rs) on arbitrary
//! input: it never panics; a refusal has an errno and a reason naming the
//! section, the entry or the map; an accepted set obeys every rule and
//! limit and re-encodes to the very bytes it was read from.
//!
//! Half the inputs are raw section bytes; the other half are entries built
//! field by field from mostly valid values, so that the checks past the
//! version and the name are reached.
#![no_main]

use arbitrary::{Result, Unstructured};
use kwasm::abi::{self as k, E2BIG, EINVAL};
use kwasm::maps::decl::{self, Kind, MapDecl, ENTRY_LEN};
use kwasm::maps::fmt;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((cpus, section)) = input(&mut u) else {
        return;
    };
    match decl::parse(&section, cpus) {
        Ok(decls) => check_accepted(&section, cpus, &decls),
        Err(e) => {
            assert!(
                e.errno == EINVAL || e.errno == E2BIG,
                "errno {}: {}",
                e.errno,
                e.msg
            );
            assert!(
                e.msg.starts_with("map ")
                    || e.msg.starts_with("kwasm.maps entry ")
                    || e.msg.starts_with("custom section kwasm.maps"),
                "{}",
                e.msg
            );
            assert!(e.msg.len() < k::KWASM_ERR_LEN as usize, "{}", e.msg);
        }
    }
});

/// Possible CPUs and the section's bytes.
fn input(u: &mut Unstructured<'_>) -> Result<(u32, Vec<u8>)> {
    let cpus = *u.choose(&[1u32, 2, 3, 4, 64, 4096])?;
    if u.arbitrary::<bool>()? {
        return Ok((cpus, u.bytes(u.len())?.to_vec()));
    }
    let count = u.int_in_range(0..=34)?;
    let mut section = Vec::new();
    for _ in 0..count {
        section.extend_from_slice(&entry(u)?);
    }
    Ok((cpus, section))
}

/// One entry, each field usually valid.
fn entry(u: &mut Unstructured<'_>) -> Result<[u8; ENTRY_LEN]> {
    let mut e = [0u8; ENTRY_LEN];
    let rare = |u: &mut Unstructured<'_>| u.ratio(1u8, 16);
    e[0] = if rare(u)? { u.arbitrary()? } else { 1 };
    let kind: u8 = if rare(u)? {
        u.arbitrary()?
    } else {
        u.int_in_range(1..=4)?
    };
    e[1] = kind;
    if rare(u)? {
        e[2..4].copy_from_slice(&u.arbitrary::<u16>()?.to_le_bytes());
    }
    let id: u32 = if rare(u)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=40)?
    };
    e[4..8].copy_from_slice(&id.to_le_bytes());
    let key: u32 = match kind {
        1 | 2 if !rare(u)? => 4,
        4 if !rare(u)? => 0,
        _ => *u.choose(&[1, 2, 4, 8, 16, 63, 64, 65, 0, u32::MAX])?,
    };
    e[8..12].copy_from_slice(&key.to_le_bytes());
    let value: u32 = if rare(u)? {
        u.arbitrary()?
    } else {
        u.int_in_range(1..=4097)?
    };
    e[12..16].copy_from_slice(&value.to_le_bytes());
    let max: u32 = if kind == 4 && !rare(u)? {
        1 << u.int_in_range(11..=25)?
    } else if rare(u)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=(1 << 20) + 1)?
    };
    e[16..20].copy_from_slice(&max.to_le_bytes());
    if rare(u)? {
        e[20..24].copy_from_slice(&u.arbitrary::<u32>()?.to_le_bytes());
    }
    let name: String = if rare(u)? {
        u.arbitrary()?
    } else {
        format!("m{}", u.int_in_range(0..=40u8)?)
    };
    text(u, &mut e[24..56], name.as_bytes())?;
    let key_fmt = format_text(u, key)?;
    text(u, &mut e[56..128], key_fmt.as_bytes())?;
    let value_fmt = format_text(u, value)?;
    text(u, &mut e[128..256], value_fmt.as_bytes())?;
    Ok(e)
}

/// A format of `size` bytes, or something else.
fn format_text(u: &mut Unstructured<'_>, size: u32) -> Result<String> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => String::new(),
        1 => u.arbitrary()?,
        2 => format!("hex{size}"),
        3 if size >= 4 => format!("a:ipv4,pad{}", size - 4).replace(",pad0", ""),
        4 if size >= 10 => format!("x:u64,p:port,hex{}", size - 10).replace(",hex0", ""),
        _ => {
            let mut parts = Vec::new();
            for _ in 0..u.int_in_range(0..=6)? {
                let ty = *u.choose(&[
                    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "ipv4", "ipv4be", "port",
                    "hex3", "pad1", "hex0", "",
                ])?;
                let name = *u.choose(&["", "a:", "b:", "a:", "_x9:", "9:"])?;
                parts.push(format!("{name}{ty}"));
            }
            parts.join(",")
        }
    })
}

/// Writes `text` into a NUL-padded field, sometimes with junk after it.
fn text(u: &mut Unstructured<'_>, field: &mut [u8], text: &[u8]) -> Result<()> {
    let n = text.len().min(field.len());
    field[..n].copy_from_slice(&text[..n]);
    if u.ratio(1u8, 32)? {
        let at = u.choose_index(field.len())?;
        field[at] = u.arbitrary()?;
    }
    Ok(())
}

fn check_accepted(section: &[u8], cpus: u32, decls: &[MapDecl]) {
    assert_eq!(decls.len() * ENTRY_LEN, section.len());
    assert!(decls.len() <= decl::MAX_MAPS);
    for (i, (d, bytes)) in decls
        .iter()
        .zip(section.chunks_exact(ENTRY_LEN))
        .enumerate()
    {
        assert_eq!(&d.encode()[..], bytes, "entry {i} does not re-encode");
        assert!(d.id < decl::MAP_IDS);
        assert!(!d.name.is_empty() && d.name.len() < k::KWASM_MAP_NAME_LEN as usize);
        assert!(decls[..i].iter().all(|o| o.name != d.name && o.id != d.id));
        assert!(d.value_size >= 1 && d.value_size <= decl::MAX_VALUE);
        match d.kind {
            Kind::Array | Kind::PercpuArray => assert_eq!(d.key_size, 4),
            Kind::Hash => assert!(d.key_size >= 1 && d.key_size <= decl::MAX_KEY),
            Kind::Events => {
                assert_eq!(d.key_size, 0);
                assert!(d.max_entries.is_power_of_two());
                assert!(d.max_entries >= decl::MIN_RING && d.max_entries <= decl::MAX_RING);
                assert!(decls[..i].iter().all(|o| o.kind != Kind::Events));
            }
        }
        if d.kind != Kind::Events {
            assert!(d.max_entries >= 1 && d.max_entries <= decl::MAX_ENTRIES);
        }
        assert_eq!(fmt::check(&d.key_fmt, d.key_size), Ok(()));
        assert_eq!(fmt::check(&d.value_fmt, d.value_size), Ok(()));
        let memory = decl::memory(d.kind, d.key_size, d.value_size, d.max_entries, cpus);
        assert_eq!(d.memory, memory);
    }
    assert!(decl::total_memory(decls) <= decl::MAX_MEMORY);
}
