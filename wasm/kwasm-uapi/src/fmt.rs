// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT
//! Display formats of map keys, values and event records (docs/ABI.md,
//! "Maps (declarations)") for user space: the grammar the kernel checks at
//! load (core/src/maps/fmt.rs), here parsed from text to bytes, decoded to
//! named values, and shown as text and as JSON. `kwasmctl map` and
//! `kwasmctl events` both go through it.
//!
//! ```text
//! format := "" | field ("," field)*        "" shows the bytes in hex
//! field  := [name ":"] type
//! type   := u8 | u16 | u32 | u64 | i8 | i16 | i32 | i64
//!         | ipv4 | ipv4be | port | hexN | padN
//! ```
//!
//! Numbers are little-endian (the wasm program's order); `ipv4` is a u32
//! in host order (as `kwasm_record.saddr`, 127.0.0.1 is 0x7f000001),
//! `ipv4be` four bytes in network order, `port` a u16; `hexN` shows N bytes
//! in hex, `padN` skips N bytes.
//!
//! - [`Format::decode`]: the named values, a field without a name called
//!   `f<i>` (i counting fields from 1), the bytes of "" called `hex`.
//! - [`Format::input`] (text to bytes) and [`Format::show`] (bytes to
//!   text) speak one syntax, so what is shown can be typed back: the
//!   fields in order, comma-separated, each as `value` or `name=value`,
//!   `pad` fields left out; `hex:...` gives the whole bytes in hex whatever
//!   the format.
//! - [`Format::json`]: a hex string for "", an object of named fields, the
//!   value of a single unnamed field, else an array.

use std::fmt;
use std::net::Ipv4Addr;

use serde_json::{json, Value as Json};

/// Why a format, or a value given as text, is not understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! fail {
    ($($arg:tt)*) => {
        return Err(Error(format!($($arg)*)))
    };
}

/// The type of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `u8` .. `u64`: the size in bytes.
    Unsigned(usize),
    /// `i8` .. `i64`: the size in bytes.
    Signed(usize),
    Ipv4,
    Ipv4Be,
    Port,
    Hex(usize),
    Pad(usize),
}

impl Type {
    /// Bytes the field takes.
    pub fn size(self) -> usize {
        match self {
            Self::Unsigned(n) | Self::Signed(n) | Self::Hex(n) | Self::Pad(n) => n,
            Self::Ipv4 | Self::Ipv4Be => 4,
            Self::Port => 2,
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Self::Unsigned(_) | Self::Signed(_))
    }

    fn parse(text: &str) -> Result<Self, Error> {
        Ok(match text {
            "u8" => Self::Unsigned(1),
            "u16" => Self::Unsigned(2),
            "u32" => Self::Unsigned(4),
            "u64" => Self::Unsigned(8),
            "i8" => Self::Signed(1),
            "i16" => Self::Signed(2),
            "i32" => Self::Signed(4),
            "i64" => Self::Signed(8),
            "ipv4" => Self::Ipv4,
            "ipv4be" => Self::Ipv4Be,
            "port" => Self::Port,
            _ => {
                let sized = |n: &str| {
                    let digits = !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit());
                    match n.parse::<usize>() {
                        Ok(v) if digits && (1..=4096).contains(&v) => Ok(v),
                        _ => Err(Error(format!("type {text:?} needs a size from 1 to 4096"))),
                    }
                };
                if let Some(n) = text.strip_prefix("hex") {
                    Self::Hex(sized(n)?)
                } else if let Some(n) = text.strip_prefix("pad") {
                    Self::Pad(sized(n)?)
                } else {
                    fail!(
                        "unknown type {text:?} (u8..u64, i8..i64, ipv4, ipv4be, port, hexN, padN)"
                    )
                }
            }
        })
    }

    /// The type's text back.
    fn text(self) -> String {
        match self {
            Self::Unsigned(n) => format!("u{}", 8 * n),
            Self::Signed(n) => format!("i{}", 8 * n),
            Self::Ipv4 => "ipv4".into(),
            Self::Ipv4Be => "ipv4be".into(),
            Self::Port => "port".into(),
            Self::Hex(n) => format!("hex{n}"),
            Self::Pad(n) => format!("pad{n}"),
        }
    }

    /// The value of the field's bytes `b` (exactly its size); `None` for a
    /// pad.
    fn decode(self, b: &[u8]) -> Option<Value> {
        Some(match self {
            Self::Pad(_) => return None,
            Self::Unsigned(_) | Self::Port => Value::Unsigned(le(b)),
            Self::Signed(_) => Value::Signed(le_signed(b)),
            Self::Ipv4 => Value::Ipv4(Ipv4Addr::from(le(b) as u32)),
            Self::Ipv4Be => Value::Ipv4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            Self::Hex(_) => Value::Hex(b.to_vec()),
        })
    }

    /// Appends the bytes of `text`, a value of this type, to `out`.
    fn input(self, text: &str, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            Self::Unsigned(n) => {
                let v = parse_u64(text)?;
                if n != 8 && v >> (8 * n) != 0 {
                    fail!("{v} does not fit in {n} bytes");
                }
                out.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Self::Signed(n) => {
                let v: i64 = text.parse().map_err(|e| because(text, "a number", e))?;
                let half = 1i64 << (8 * n as u32 - 1);
                if n != 8 && !(-half..half).contains(&v) {
                    fail!("{v} does not fit in {n} bytes");
                }
                out.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Self::Ipv4 | Self::Ipv4Be => {
                let a: Ipv4Addr = text
                    .parse()
                    .map_err(|e| because(text, "an IPv4 address", e))?;
                if self == Self::Ipv4 {
                    out.extend_from_slice(&u32::from(a).to_le_bytes());
                } else {
                    out.extend_from_slice(&a.octets());
                }
            }
            Self::Port => {
                let p: u16 = text.parse().map_err(|e| because(text, "a port", e))?;
                out.extend_from_slice(&p.to_le_bytes());
            }
            Self::Hex(n) => out.extend_from_slice(&parse_hex(text, n)?),
            Self::Pad(n) => out.resize(out.len() + n, 0),
        }
        Ok(())
    }
}

/// One field of a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: Option<String>,
    pub ty: Type,
}

/// A parsed format: its fields in order, none for "" (hex), and the size
/// of the bytes it describes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub fields: Vec<Field>,
    size: usize,
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
    Ipv4(Ipv4Addr),
    /// Bytes shown in hex.
    Hex(Vec<u8>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsigned(v) => write!(f, "{v}"),
            Self::Signed(v) => write!(f, "{v}"),
            Self::Ipv4(a) => write!(f, "{a}"),
            Self::Hex(b) => f.write_str(&hex(b)),
        }
    }
}

impl Value {
    /// The value as JSON: numbers as numbers, addresses and hex as strings.
    pub fn json(&self) -> Json {
        match self {
            Self::Unsigned(n) => json!(n),
            Self::Signed(n) => json!(n),
            Self::Ipv4(_) | Self::Hex(_) => json!(self.to_string()),
        }
    }
}

/// `bytes` in lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` (optionally after 0x) as `size` bytes in hex.
fn parse_hex(text: &str, size: usize) -> Result<Vec<u8>, Error> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.len() != size * 2 {
        fail!("'{text}' is not {size} bytes in hex ({} digits)", size * 2);
    }
    (0..size)
        .map(|i| {
            // get(): None, not a panic, inside a multi-byte character.
            let digits = text.get(2 * i..2 * i + 2).unwrap_or("?");
            u8::from_str_radix(digits, 16).map_err(|e| because(text, "hex", e))
        })
        .collect()
}

/// `text` as a number: decimal, or hex after 0x.
fn parse_u64(text: &str) -> Result<u64, Error> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .map_err(|e| because(text, "a number", e))
}

/// "`text` is not `what`", and why (the parser's words).
fn because(text: &str, what: &str, why: impl fmt::Display) -> Error {
    Error(format!("'{text}' is not {what}: {why}"))
}

/// The little-endian unsigned number in `bytes` (at most 8).
fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// The same, sign-extended.
fn le_signed(bytes: &[u8]) -> i64 {
    let shift = 64 - 8 * bytes.len() as u32;
    ((le(bytes) << shift) as i64) >> shift
}

impl Format {
    /// Parses `text` (see the module documentation); its size is the
    /// fields' (0 for "").
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut fields: Vec<Field> = Vec::new();
        if !text.is_empty() {
            for (i, part) in text.split(',').enumerate() {
                let (name, ty) = match part.split_once(':') {
                    Some((name, ty)) => (Some(name.to_owned()), ty),
                    None => (None, part),
                };
                let ty = Type::parse(ty).map_err(|e| Error(format!("field {}: {e}", i + 1)))?;
                if let Some(name) = &name {
                    if fields.iter().any(|f| f.name.as_ref() == Some(name)) {
                        fail!("field {}: name {name} is used twice", i + 1);
                    }
                }
                fields.push(Field { name, ty });
            }
        }
        let size = fields.iter().map(|f| f.ty.size()).sum();
        Ok(Self { fields, size })
    }

    /// Parses `text` for values of `size` bytes: an error when the fields
    /// do not add up to it. A "" format takes `size` bytes in hex.
    pub fn parse_sized(text: &str, size: usize) -> Result<Self, Error> {
        let mut format = Self::parse(text)?;
        if format.fields.is_empty() {
            format.size = size;
        } else if format.size != size {
            fail!("format '{text}' takes {} bytes, not {size}", format.size);
        }
        Ok(format)
    }

    /// Bytes the format describes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The format's text back.
    pub fn text(&self) -> String {
        self.fields
            .iter()
            .map(|f| match &f.name {
                Some(name) => format!("{name}:{}", f.ty.text()),
                None => f.ty.text(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The bytes `text` gives: `hex:...`, or the fields in order.
    pub fn input(&self, text: &str) -> Result<Vec<u8>, Error> {
        if let Some(h) = text.strip_prefix("hex:") {
            return parse_hex(h, self.size);
        }
        if self.fields.is_empty() {
            return parse_hex(text, self.size);
        }
        let given: Vec<&str> = text.split(',').collect();
        let wanted = self
            .fields
            .iter()
            .filter(|f| !matches!(f.ty, Type::Pad(_)))
            .count();
        if given.len() != wanted {
            fail!(
                "'{text}' has {} fields; the format '{}' wants {wanted} (or hex:...)",
                given.len(),
                self.text()
            );
        }
        let mut out = Vec::with_capacity(self.size);
        let mut given = given.into_iter();
        for field in &self.fields {
            if matches!(field.ty, Type::Pad(_)) {
                field.ty.input("", &mut out)?;
                continue;
            }
            let mut part = given.next().unwrap_or_default();
            if let Some((name, value)) = part.split_once('=') {
                if field.name.as_deref() != Some(name) {
                    fail!(
                        "'{part}': the field there is {}",
                        field.name.as_deref().unwrap_or("unnamed")
                    );
                }
                part = value;
            }
            field.ty.input(part, &mut out).map_err(|e| {
                Error(format!(
                    "field {}: {e}",
                    field.name.as_deref().unwrap_or(part)
                ))
            })?;
        }
        Ok(out)
    }

    /// Each field but the pads with its index (from 0) and value; `None`
    /// (shown as hex) when the format is "" or its size is not the bytes'.
    fn values(&self, bytes: &[u8]) -> Option<Vec<(usize, &Field, Value)>> {
        if self.fields.is_empty() || self.size != bytes.len() {
            return None;
        }
        let mut at = 0;
        let mut out = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let b = &bytes[at..at + field.ty.size()];
            at += field.ty.size();
            if let Some(value) = field.ty.decode(b) {
                out.push((i, field, value));
            }
        }
        Some(out)
    }

    /// The named values of `bytes`, pads left out; one field `hex` when
    /// the format is "" or its size is not the bytes'.
    pub fn decode(&self, bytes: &[u8]) -> Vec<(String, Value)> {
        let Some(values) = self.values(bytes) else {
            return vec![("hex".into(), Value::Hex(bytes.to_vec()))];
        };
        values
            .into_iter()
            .map(|(i, f, v)| (f.name.clone().unwrap_or_else(|| format!("f{}", i + 1)), v))
            .collect()
    }

    /// `bytes` as text, in [`Format::input`]'s syntax.
    pub fn show(&self, bytes: &[u8]) -> String {
        let Some(values) = self.values(bytes) else {
            return hex(bytes);
        };
        values
            .iter()
            .map(|(_, f, v)| match &f.name {
                Some(name) => format!("{name}={v}"),
                None => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `bytes` as JSON: a hex string for "", an object of named fields, the
    /// value of a single unnamed field, else an array.
    pub fn json(&self, bytes: &[u8]) -> Json {
        let Some(values) = self.values(bytes) else {
            return json!(hex(bytes));
        };
        if values.iter().all(|(_, f, _)| f.name.is_some()) {
            return Json::Object(
                values
                    .iter()
                    .map(|(_, f, v)| (f.name.clone().unwrap_or_default(), v.json()))
                    .collect(),
            );
        }
        if let [(_, _, v)] = values.as_slice() {
            return v.json();
        }
        Json::Array(values.iter().map(|(_, _, v)| v.json()).collect())
    }

    /// The sum of per-CPU `values`, field by field, when every shown field
    /// is a number (wrapping at the field's size); `None` otherwise.
    pub fn sum(&self, values: &[&[u8]]) -> Option<Vec<u8>> {
        let mut shown = self
            .fields
            .iter()
            .filter(|f| !matches!(f.ty, Type::Pad(_)))
            .peekable();
        if shown.peek().is_none() || !shown.all(|f| f.ty.numeric()) {
            return None;
        }
        let mut out = vec![0u8; self.size];
        let mut at = 0;
        for f in &self.fields {
            let n = f.ty.size();
            if f.ty.numeric() {
                let total = values.iter().fold(0u64, |acc, v| {
                    acc.wrapping_add(v.get(at..at + n).map_or(0, |b| {
                        if matches!(f.ty, Type::Signed(_)) {
                            le_signed(b) as u64
                        } else {
                            le(b)
                        }
                    }))
                });
                out[at..at + n].copy_from_slice(&total.to_le_bytes()[..n]);
            }
            at += n;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Decoding, as `kwasmctl events` uses it.

    #[test]
    fn drop_event() {
        let f = Format::parse("saddr:ipv4,sport:port,dport:port,proto:u8,pad3").unwrap();
        assert_eq!(f.size(), 12);
        let mut b = 0x7f00_0001u32.to_le_bytes().to_vec();
        b.extend_from_slice(&40000u16.to_le_bytes());
        b.extend_from_slice(&23557u16.to_le_bytes());
        b.extend_from_slice(&[6, 0, 0, 0]);
        let shown: Vec<String> = f
            .decode(&b)
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert_eq!(
            shown,
            ["saddr=127.0.0.1", "sport=40000", "dport=23557", "proto=6"]
        );
    }

    #[test]
    fn every_type() {
        let f = Format::parse("i8,b:i16,u32,ipv4be,hex2,i64").unwrap();
        let mut b = vec![0xff, 0xfe, 0xff, 1, 0, 0, 0, 10, 0, 0, 1, 0xab, 0xcd];
        b.extend_from_slice(&(-5i64).to_le_bytes());
        let d = f.decode(&b);
        assert_eq!(d[0], ("f1".into(), Value::Signed(-1)));
        assert_eq!(d[1], ("b".into(), Value::Signed(-2)));
        assert_eq!(d[2], ("f3".into(), Value::Unsigned(1)));
        assert_eq!(d[3].1.to_string(), "10.0.0.1");
        assert_eq!(d[4].1.to_string(), "abcd");
        assert_eq!(d[5].1, Value::Signed(-5));
        // An unnamed field after a pad keeps its place's number.
        let p = Format::parse("u8,pad1,u8").unwrap();
        assert_eq!(p.decode(&[1, 0, 2])[1].0, "f3");
        // "" and a size mismatch: hex.
        assert_eq!(
            Format::parse("").unwrap().decode(&[1, 2]),
            [("hex".into(), Value::Hex(vec![1, 2]))]
        );
        assert_eq!(Format::parse("u32").unwrap().decode(&[1, 2]).len(), 1);
        assert_eq!(Format::parse("u32").unwrap().show(&[1, 2]), "0102");
        assert!(Format::parse("u7").is_err());
        assert!(Format::parse("hex0").is_err());
        assert!(Format::parse("hex01").is_err());
        assert!(Format::parse("pad+1").is_err());
        assert!(Format::parse("a:u8,a:u8").is_err());
    }

    // Text to bytes and back, as `kwasmctl map` uses it.

    #[test]
    fn ipv4_keys_round_trip() {
        let f = Format::parse_sized("ipv4", 4).unwrap();
        let b = f.input("127.0.0.2").unwrap();
        assert_eq!(b, [2, 0, 0, 127]);
        assert_eq!(f.show(&b), "127.0.0.2");
        assert_eq!(f.json(&b), json!("127.0.0.2"));
        let be = Format::parse_sized("ipv4be", 4).unwrap();
        assert_eq!(be.input("10.0.0.1").unwrap(), [10, 0, 0, 1]);
        assert_eq!(be.show(&[10, 0, 0, 1]), "10.0.0.1");
        assert!(f.input("127.0.0").is_err());
        assert_eq!(f.input("hex:0200007f").unwrap(), [2, 0, 0, 127]);
    }

    #[test]
    fn numbers() {
        let f = Format::parse_sized("u8", 1).unwrap();
        assert_eq!(f.input("1").unwrap(), [1]);
        assert_eq!(f.input("0xff").unwrap(), [255]);
        assert_eq!(
            f.input("256").unwrap_err().to_string(),
            "field 256: 256 does not fit in 1 bytes"
        );
        let s = Format::parse_sized("i16", 2).unwrap();
        assert_eq!(s.input("-2").unwrap(), [0xfe, 0xff]);
        assert_eq!(s.show(&[0xfe, 0xff]), "-2");
        assert!(s.input("40000").is_err());
        // The parser's reason follows, as anyhow's chain showed it.
        assert_eq!(
            s.input("x").unwrap_err().to_string(),
            "field x: 'x' is not a number: invalid digit found in string"
        );
        assert_eq!(s.input("-32768").unwrap(), [0, 0x80]);
        assert!(s.input("-32769").is_err());
        let u = Format::parse_sized("u64", 8).unwrap();
        assert_eq!(
            u.show(&u.input("18446744073709551615").unwrap()),
            "18446744073709551615"
        );
        let i = Format::parse_sized("i64", 8).unwrap();
        assert_eq!(
            i.show(&i.input("-9223372036854775808").unwrap()),
            "-9223372036854775808"
        );
    }

    #[test]
    fn named_fields_and_padding() {
        let f = Format::parse_sized("packets:u64,bytes:u64", 16).unwrap();
        let b = f.input("3,180").unwrap();
        assert_eq!(f.show(&b), "packets=3,bytes=180");
        assert_eq!(f.input("packets=3,bytes=180").unwrap(), b);
        assert_eq!(f.json(&b), json!({"packets": 3, "bytes": 180}));
        assert!(f.input("bytes=3,180").is_err());
        assert!(f.input("3").unwrap_err().to_string().contains("wants 2"));
        let e = Format::parse_sized("saddr:ipv4,sport:port,dport:port,proto:u8,pad3", 12).unwrap();
        let b = e.input("10.0.0.1,1234,80,6").unwrap();
        assert_eq!(b.len(), 12);
        assert_eq!(e.show(&b), "saddr=10.0.0.1,sport=1234,dport=80,proto=6");
        let mixed = Format::parse_sized("u8,hex2", 3).unwrap();
        assert_eq!(mixed.json(&[1, 0xab, 0xcd]), json!([1, "abcd"]));
        assert_eq!(mixed.text(), "u8,hex2");
    }

    #[test]
    fn hex_format() {
        let f = Format::parse_sized("", 3).unwrap();
        assert_eq!(f.input("0a0b0c").unwrap(), [10, 11, 12]);
        assert_eq!(f.input("hex:0a0b0c").unwrap(), [10, 11, 12]);
        assert_eq!(f.show(&[10, 11, 12]), "0a0b0c");
        assert_eq!(f.json(&[10, 11, 12]), json!("0a0b0c"));
        assert!(f.input("0a0b").is_err());
        assert!(f.input("zz0b0c").is_err());
        // Not a panic: a multi-byte character where a digit pair would be.
        assert!(f.input("0é0b0").is_err());
        assert!(Format::parse_sized("u32", 8).is_err());
        assert!(Format::parse_sized("float", 4).is_err());
    }

    #[test]
    fn per_cpu_sums() {
        let f = Format::parse_sized("packets:u64,bytes:u64", 16).unwrap();
        let a = f.input("1,100").unwrap();
        let b = f.input("2,50").unwrap();
        let sum = f.sum(&[&a, &b]).unwrap();
        assert_eq!(f.show(&sum), "packets=3,bytes=150");
        let s = Format::parse_sized("i8", 1).unwrap();
        assert_eq!(s.show(&s.sum(&[&[0xff], &[0xfe]]).unwrap()), "-3");
        let ipv4 = Format::parse_sized("ipv4", 4).unwrap();
        assert!(ipv4.sum(&[&[0; 4]]).is_none());
        assert!(Format::parse_sized("", 4)
            .unwrap()
            .sum(&[&[0; 4]])
            .is_none());
    }
}
