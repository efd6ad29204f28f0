// SPDX-License-Identifier: GPL-2.0
//! `kwasmctl map ...`: the map ioctls of a loaded program (--prog NAME, or
//! the only one).

use anyhow::anyhow;
use serde_json::{json, Value};

use kwasm_uapi::fmt::Format;
use kwasm_uapi::{self as uapi, Device, Errno};

use crate::cli::{MapArgs, MapCommand};
use crate::commands::{kernel_error, open_device};
use crate::error::Error;
use crate::progs;

/// Bytes asked for at once by a dump (one record at least).
const DUMP_CHUNK: usize = 64 << 10;

/// The device and the program whose maps the requests use.
struct Prog {
    dev: Device,
    /// The program's id; 0: the only one.
    id: u32,
}

impl Prog {
    /// A refusal of a request on this program.
    fn error(&self, context: impl Into<String>, errno: Errno, reason: String) -> Error {
        progs::hint_prog(
            kernel_error(context.into(), errno, reason),
            self.id,
            "--prog",
        )
    }
}

pub fn run(args: &MapArgs) -> Result<(), Error> {
    let dev = open_device()?;
    let context = match &args.prog {
        Some(name) => format!("map --prog {name}"),
        None => "map".into(),
    };
    let id = progs::resolve(&dev, args.prog.as_deref(), &context)?;
    let dev = Prog { dev, id };
    match &args.command {
        MapCommand::List { json } => list(&dev, *json),
        MapCommand::Dump { name, json } => dump(&dev, name, *json),
        MapCommand::Lookup {
            name,
            key,
            cpu,
            json,
        } => lookup(&dev, name, key, *cpu, *json),
        MapCommand::Update {
            name,
            key,
            value,
            noexist,
            exist,
            cpu,
            json,
        } => {
            let flags = match (noexist, exist) {
                (true, _) => uapi::KWASM_MAP_NOEXIST,
                (_, true) => uapi::KWASM_MAP_EXIST,
                _ => uapi::KWASM_MAP_ANY,
            };
            update(&dev, name, key, value, flags, *cpu, *json)
        }
        MapCommand::Delete { name, key, json } => delete(&dev, name, key, *json),
    }
}

/// The maps of the program.
fn infos(dev: &Prog, context: &str) -> Result<Vec<uapi::kwasm_map_info>, Error> {
    let mut maps = vec![uapi::kwasm_map_info::default(); uapi::KWASM_LIMIT_MAPS as usize];
    let mut req = uapi::kwasm_map_list {
        prog_id: dev.id,
        ..Default::default()
    };
    dev.dev
        .map_list(&mut maps, &mut req)
        .map_err(|e| dev.error(context, e, req.reason()))?;
    maps.truncate((req.count as usize).min(maps.len()));
    Ok(maps)
}

/// A map and its formats.
struct Target {
    info: uapi::kwasm_map_info,
    key: Format,
    value: Format,
}

impl Target {
    fn per_cpu(&self) -> bool {
        self.info.kind == uapi::KWASM_MAP_KIND_PERCPU_ARRAY
    }

    /// Splits `bytes` into the values of each CPU.
    fn cpu_values<'a>(&self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        bytes
            .chunks(self.info.value_size.max(1) as usize)
            .take(self.info.ncpus as usize)
            .collect()
    }

    /// The value of `bytes` (one, or one per CPU), as text.
    fn show_value(&self, bytes: &[u8], all_cpus: bool) -> String {
        if !(self.per_cpu() && all_cpus) {
            return self.value.show(bytes);
        }
        let values = self.cpu_values(bytes);
        let mut cols: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(cpu, v)| format!("cpu{cpu}={}", self.value.show(v)))
            .collect();
        if let Some(sum) = self.value.sum(&values) {
            cols.push(format!("sum={}", self.value.show(&sum)));
        }
        cols.join(" ")
    }

    /// The same as a JSON object's fields.
    fn json_entry(&self, key: &[u8], value: &[u8], all_cpus: bool) -> Value {
        let mut entry = json!({ "key": self.key.json(key) });
        if self.per_cpu() && all_cpus {
            let values = self.cpu_values(value);
            entry["values"] = values.iter().map(|v| self.value.json(v)).collect();
            if let Some(sum) = self.value.sum(&values) {
                entry["sum"] = self.value.json(&sum);
            }
        } else {
            entry["value"] = self.value.json(value);
        }
        entry
    }
}

fn target(dev: &Prog, name: &str, context: &str) -> Result<Target, Error> {
    let maps = infos(dev, context)?;
    let Some(info) = maps.iter().find(|m| m.name() == name).copied() else {
        let names: Vec<String> = maps.iter().map(|m| m.name()).collect();
        let reason = if names.is_empty() {
            "the program has no maps".to_owned()
        } else {
            format!("no map named {name}; the maps are {}", names.join(", "))
        };
        return Err(kernel_error(context.into(), Errno::ENOENT, reason));
    };
    let formats = Format::parse_sized(&info.key_fmt(), info.key_size as usize).and_then(|key| {
        let value = Format::parse_sized(&info.value_fmt(), info.value_size as usize)?;
        Ok((key, value))
    });
    let (key, value) = formats.map_err(|e| Error::input(context, e.into()))?;
    Ok(Target { info, key, value })
}

/// The bytes of `text` in `format`; bad input is an error of `context`.
fn input(format: &Format, text: &str, context: &str) -> Result<Vec<u8>, Error> {
    format
        .input(text)
        .map_err(|e| Error::input(context, e.into()))
}

fn op_request(
    dev: &Prog,
    name: &str,
    cpu: Option<u32>,
    context: &str,
) -> Result<uapi::kwasm_map_op, Error> {
    let mut req = uapi::kwasm_map_op::new(name)
        .map_err(|e| Error::input(context, anyhow!("map name '{name}': {e}")))?;
    req.prog_id = dev.id;
    if let Some(cpu) = cpu {
        req.cpu = cpu;
    }
    Ok(req)
}

fn list(dev: &Prog, json: bool) -> Result<(), Error> {
    let maps = infos(dev, "map list")?;
    if json {
        let all: Vec<Value> = maps
            .iter()
            .map(|m| {
                json!({
                    "name": m.name(),
                    "id": m.id,
                    "kind": m.kind_name(),
                    "key_size": m.key_size,
                    "value_size": m.value_size,
                    "max_entries": m.max_entries,
                    "entries": m.entries,
                    "ncpus": m.ncpus,
                    "memory": m.memory,
                    "full": m.full,
                    "key_fmt": m.key_fmt(),
                    "value_fmt": m.value_fmt(),
                })
            })
            .collect();
        println!("{}", Value::Array(all));
        return Ok(());
    }
    if maps.is_empty() {
        println!("no maps");
    }
    for m in &maps {
        let fmt = |f: String| if f.is_empty() { "hex".into() } else { f };
        println!(
            "{}: {} id={} key={} value={} max={} entries={} memory={} full={} key_fmt={} value_fmt={}",
            m.name(),
            m.kind_name(),
            m.id,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.entries,
            m.memory,
            m.full,
            fmt(m.key_fmt()),
            fmt(m.value_fmt()),
        );
    }
    Ok(())
}

fn lookup(dev: &Prog, name: &str, key: &str, cpu: Option<u32>, json: bool) -> Result<(), Error> {
    let context = format!("map lookup {name} {key}");
    let t = target(dev, name, &context)?;
    let k = input(&t.key, key, &context)?;
    let slots = if cpu.is_none() && t.per_cpu() {
        t.info.ncpus as usize
    } else {
        1
    };
    let mut value = vec![0u8; t.info.value_size as usize * slots];
    let mut req = op_request(dev, name, cpu, &context)?;
    dev.dev
        .map_lookup(&k, &mut value, &mut req)
        .map_err(|e| dev.error(context, e, req.reason()))?;
    if json {
        println!("{}", t.json_entry(&k, &value, cpu.is_none()));
    } else {
        println!("{}", t.show_value(&value, cpu.is_none()));
    }
    Ok(())
}

fn update(
    dev: &Prog,
    name: &str,
    key: &str,
    value: &str,
    flags: u32,
    cpu: Option<u32>,
    json: bool,
) -> Result<(), Error> {
    let context = format!("map update {name} {key} {value}");
    let t = target(dev, name, &context)?;
    let k = input(&t.key, key, &context)?;
    let one = input(&t.value, value, &context)?;
    // A per-CPU map without --cpu: the same value on every CPU.
    let v = if cpu.is_none() && t.per_cpu() {
        one.repeat(t.info.ncpus as usize)
    } else {
        one
    };
    let mut req = op_request(dev, name, cpu, &context)?;
    req.flags = flags;
    dev.dev
        .map_update(&k, &v, &mut req)
        .map_err(|e| dev.error(context, e, req.reason()))?;
    if json {
        println!(
            "{}",
            json!({"map": name, "op": "update", "key": t.key.json(&k)})
        );
    }
    Ok(())
}

fn delete(dev: &Prog, name: &str, key: &str, json: bool) -> Result<(), Error> {
    let context = format!("map delete {name} {key}");
    let t = target(dev, name, &context)?;
    let k = input(&t.key, key, &context)?;
    let mut req = op_request(dev, name, None, &context)?;
    dev.dev
        .map_delete(&k, &mut req)
        .map_err(|e| dev.error(context, e, req.reason()))?;
    if json {
        println!(
            "{}",
            json!({"map": name, "op": "delete", "key": t.key.json(&k)})
        );
    }
    Ok(())
}

/// The (key, values) of each record in `buf`.
fn records<'a>(
    buf: &'a [u8],
    count: usize,
    info: &uapi::kwasm_map_info,
) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
    let len = uapi::map_record_len(info.key_size, info.value_size, info.ncpus);
    let key_len = info.key_size as usize;
    let value_at = key_len.div_ceil(8) * 8;
    let value_len = info.value_size as usize * info.ncpus as usize;
    buf.chunks_exact(len.max(1)).take(count).map(move |r| {
        (
            &r[..key_len],
            r.get(value_at..value_at + value_len).unwrap_or_default(),
        )
    })
}

fn dump(dev: &Prog, name: &str, json: bool) -> Result<(), Error> {
    let context = format!("map dump {name}");
    let t = target(dev, name, &context)?;
    let len = uapi::map_record_len(t.info.key_size, t.info.value_size, t.info.ncpus);
    let mut buf = vec![0u8; DUMP_CHUNK.max(len) / len.max(1) * len];
    let mut req = uapi::kwasm_map_dump::new(name)
        .map_err(|e| Error::input(&context, anyhow!("map name '{name}': {e}")))?;
    req.prog_id = dev.id;
    let mut all = Vec::new();
    while req.cursor != uapi::KWASM_DUMP_END {
        dev.dev
            .map_dump(&mut buf, &mut req)
            .map_err(|e| dev.error(context.clone(), e, req.reason()))?;
        for (k, v) in records(&buf, req.count as usize, &t.info) {
            if json {
                all.push(t.json_entry(k, v, true));
            } else {
                println!("{}: {}", t.key.show(k), t.show_value(v, true));
            }
        }
    }
    if json {
        println!("{}", Value::Array(all));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: u32, key: u32, value: u32, ncpus: u32) -> uapi::kwasm_map_info {
        uapi::kwasm_map_info {
            kind,
            key_size: key,
            value_size: value,
            ncpus,
            ..Default::default()
        }
    }

    #[test]
    fn dump_records_are_split() {
        let i = info(uapi::KWASM_MAP_KIND_HASH, 4, 1, 1);
        let mut buf = vec![0u8; 48];
        buf[..4].copy_from_slice(&[1, 0, 0, 127]);
        buf[8] = 1;
        buf[16..20].copy_from_slice(&[2, 0, 0, 127]);
        buf[24] = 7;
        let r: Vec<_> = records(&buf, 2, &i).collect();
        assert_eq!(
            r,
            [
                (&[1, 0, 0, 127][..], &[1][..]),
                (&[2, 0, 0, 127][..], &[7][..])
            ]
        );
        let p = info(uapi::KWASM_MAP_KIND_PERCPU_ARRAY, 4, 8, 2);
        let buf = [0u8; 24];
        let r: Vec<_> = records(&buf, 1, &p).collect();
        assert_eq!((r[0].0.len(), r[0].1.len()), (4, 16));
    }

    #[test]
    fn per_cpu_columns_and_sum() {
        let t = Target {
            info: info(uapi::KWASM_MAP_KIND_PERCPU_ARRAY, 4, 16, 2),
            key: Format::parse_sized("u32", 4).unwrap(),
            value: Format::parse_sized("packets:u64,bytes:u64", 16).unwrap(),
        };
        let mut v = t.value.input("1,100").unwrap();
        v.extend(t.value.input("2,50").unwrap());
        assert_eq!(
            t.show_value(&v, true),
            "cpu0=packets=1,bytes=100 cpu1=packets=2,bytes=50 sum=packets=3,bytes=150"
        );
        assert_eq!(t.show_value(&v[..16], false), "packets=1,bytes=100");
        let j = t.json_entry(&[0, 0, 0, 0], &v, true);
        assert_eq!(
            j,
            json!({"key": 0, "values": [{"packets": 1, "bytes": 100}, {"packets": 2, "bytes": 50}],
                   "sum": {"packets": 3, "bytes": 150}})
        );
        let h = Target {
            info: info(uapi::KWASM_MAP_KIND_HASH, 4, 1, 1),
            key: Format::parse_sized("ipv4", 4).unwrap(),
            value: Format::parse_sized("u8", 1).unwrap(),
        };
        assert_eq!(
            h.json_entry(&[2, 0, 0, 127], &[1], true),
            json!({"key": "127.0.0.2", "value": 1})
        );
    }
}
