//! A program's options: the one place they are checked. The ioctl, the
//! write() path and test-run all hand the core a `struct kwasm_load`; what
//! it leaves unset gets its default here.

use alloc::ffi::CString;
use alloc::format;
use alloc::vec::Vec;

use crate::abi::{self, Error, EINVAL};
use crate::ffi::sys::kwasm::kwasm_prog_opts;

/// A program's options, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub name: CString,
    /// NF_INET_* hook number.
    pub hook: u32,
    /// Netfilter priority, never the kernel's first or last.
    pub priority: i32,
    /// KWASM_FAMILY_*: the families whose hooks run the program.
    pub family: u32,
    /// The id the shim gave the program (0 until it does): the prog_id of
    /// its events.
    pub id: u32,
    /// Packet bytes copied into the record.
    pub snaplen: u32,
    /// KWASM_DROP or KWASM_ACCEPT, on a trap or a bad return value.
    pub default_verdict: u32,
    /// Budget of each call, 1..=KWASM_MAX_FUEL.
    pub fuel: u64,
    /// Start with empty maps rather than adopt those of the program this
    /// one replaces (`KWASM_LOAD_FRESH_MAPS`).
    pub fresh_maps: bool,
}

fn invalid(msg: alloc::string::String) -> Error {
    Error::new(EINVAL, msg)
}

impl Options {
    /// Checks the options of `req` (its flags say which are set).
    pub fn from_load(req: &abi::kwasm_load) -> Result<Self, Error> {
        let unknown = req.flags & !abi::KWASM_LOAD_ALL_FLAGS;
        if unknown != 0 {
            return Err(invalid(format!("unknown flags {unknown:#x}")));
        }
        let set = |flag: u32| req.flags & flag != 0;

        let raw: Vec<u8> = req
            .name
            .iter()
            .map(|&c| c as u8)
            .take_while(|&c| c != 0)
            .collect();
        if raw.len() >= req.name.len() {
            return Err(invalid(format!(
                "program name is not NUL-terminated within {} bytes",
                req.name.len()
            )));
        }
        if let Some(&c) = raw.iter().find(|&&c| !valid_name_byte(c)) {
            return Err(invalid(format!(
                "program name {:?} has {:?}: use letters, digits, '_', '-' and '.'",
                alloc::string::String::from_utf8_lossy(&raw),
                char::from(c)
            )));
        }
        let name = if raw.is_empty() {
            CString::from(c"prog")
        } else {
            CString::new(raw).map_err(|_| invalid("bad program name".into()))?
        };

        let mut opts = Self {
            name,
            hook: abi::NF_INET_PRE_ROUTING,
            priority: abi::KWASM_DEFAULT_PRIORITY as i32,
            family: abi::KWASM_FAMILY_IPV4,
            id: 0,
            snaplen: abi::KWASM_DEFAULT_SNAPLEN,
            default_verdict: abi::KWASM_ACCEPT,
            fuel: abi::KWASM_DEFAULT_FUEL,
            fresh_maps: set(abi::KWASM_LOAD_FRESH_MAPS),
        };
        if set(abi::KWASM_LOAD_HOOK) {
            if req.hook >= abi::NF_INET_NUMHOOKS {
                return Err(invalid(format!(
                    "hook {} does not exist (0..{})",
                    req.hook,
                    abi::NF_INET_NUMHOOKS - 1
                )));
            }
            opts.hook = req.hook;
        }
        if set(abi::KWASM_LOAD_PRIORITY) {
            // The kernel's own: before defragmentation, after everything.
            if req.priority == abi::NF_IP_PRI_FIRST || req.priority == abi::NF_IP_PRI_LAST {
                return Err(invalid(format!(
                    "priority {} is reserved for the kernel (first or last); use {}..{}",
                    req.priority,
                    abi::NF_IP_PRI_FIRST + 1,
                    abi::NF_IP_PRI_LAST - 1
                )));
            }
            opts.priority = req.priority;
        }
        if set(abi::KWASM_LOAD_FAMILY) {
            if !matches!(
                req.family,
                abi::KWASM_FAMILY_IPV4 | abi::KWASM_FAMILY_IPV6 | abi::KWASM_FAMILY_INET
            ) {
                return Err(invalid(format!(
                    "family {} is none of ipv4 ({}), ipv6 ({}) and inet ({})",
                    req.family,
                    abi::KWASM_FAMILY_IPV4,
                    abi::KWASM_FAMILY_IPV6,
                    abi::KWASM_FAMILY_INET
                )));
            }
            opts.family = req.family;
        }
        if set(abi::KWASM_LOAD_SNAPLEN) {
            if req.snaplen > abi::KWASM_MAX_SNAPLEN {
                return Err(invalid(format!(
                    "snaplen {} is above the limit {}",
                    req.snaplen,
                    abi::KWASM_MAX_SNAPLEN
                )));
            }
            opts.snaplen = req.snaplen;
        }
        if set(abi::KWASM_LOAD_DEFAULT) {
            if !matches!(req.default_verdict, abi::KWASM_DROP | abi::KWASM_ACCEPT) {
                return Err(invalid(format!(
                    "default verdict {} is neither drop (0) nor accept (1)",
                    req.default_verdict
                )));
            }
            opts.default_verdict = req.default_verdict;
        }
        if set(abi::KWASM_LOAD_FUEL) {
            if req.fuel == 0 || req.fuel > abi::KWASM_MAX_FUEL {
                return Err(invalid(format!(
                    "fuel {} is outside 1..{}",
                    req.fuel,
                    abi::KWASM_MAX_FUEL
                )));
            }
            opts.fuel = req.fuel;
        }
        Ok(opts)
    }

    /// The options as the shim keeps them.
    pub fn to_c(&self) -> kwasm_prog_opts {
        let mut c = kwasm_prog_opts {
            hook: self.hook,
            priority: self.priority,
            snaplen: self.snaplen,
            default_verdict: self.default_verdict,
            fuel: self.fuel,
            fresh_maps: self.fresh_maps.into(),
            family: self.family,
            id: self.id,
            ..Default::default()
        };
        for (dst, &src) in c.name.iter_mut().zip(self.name.as_bytes()) {
            *dst = src as _;
        }
        if let Some(last) = c.name.last_mut() {
            *last = 0;
        }
        c
    }

    /// Options the shim kept (`to_c`), checked again: a program is only
    /// ever built from options that passed `from_load`.
    pub fn from_c(c: &kwasm_prog_opts) -> Result<Self, Error> {
        let fresh = if c.fresh_maps != 0 {
            abi::KWASM_LOAD_FRESH_MAPS
        } else {
            0
        };
        let req = abi::kwasm_load {
            flags: abi::KWASM_LOAD_ALL_FLAGS & !abi::KWASM_LOAD_FRESH_MAPS | fresh,
            hook: c.hook,
            priority: c.priority,
            snaplen: c.snaplen,
            default_verdict: c.default_verdict,
            fuel: c.fuel,
            family: c.family,
            name: c.name,
            ..Default::default()
        };
        let id = c.id;
        Self::from_load(&req).map(|opts| Self { id, ..opts })
    }
}

/// Program names: what a command line, a log line and /proc show plainly.
fn valid_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(flags: u32, f: impl FnOnce(&mut abi::kwasm_load)) -> Result<Options, Error> {
        let mut req = abi::kwasm_load {
            flags,
            ..Default::default()
        };
        f(&mut req);
        Options::from_load(&req)
    }

    #[test]
    fn defaults_for_what_is_unset() {
        let o = load(0, |_| {}).unwrap();
        assert_eq!(o.name.as_bytes(), b"prog");
        assert_eq!(o.hook, abi::NF_INET_PRE_ROUTING);
        assert_eq!(o.priority, 0);
        assert_eq!(o.family, abi::KWASM_FAMILY_IPV4);
        assert_eq!(o.snaplen, abi::KWASM_DEFAULT_SNAPLEN);
        assert_eq!(o.default_verdict, abi::KWASM_ACCEPT);
        assert_eq!(o.fuel, abi::KWASM_DEFAULT_FUEL);
        // Set values in fields whose flag is clear are ignored.
        let o = load(0, |r| r.snaplen = u32::MAX).unwrap();
        assert_eq!(o.snaplen, abi::KWASM_DEFAULT_SNAPLEN);
    }

    #[test]
    fn each_bad_option_is_named() {
        type Case = (u32, fn(&mut abi::kwasm_load), &'static str);
        let cases: [Case; 11] = [
            (1 << 7, |_| {}, "unknown flags 0x80"),
            (
                abi::KWASM_LOAD_PRIORITY,
                |r| r.priority = i32::MIN,
                "priority -2147483648 is reserved for the kernel (first or last); \
                 use -2147483647..2147483646",
            ),
            (
                abi::KWASM_LOAD_PRIORITY,
                |r| r.priority = i32::MAX,
                "priority 2147483647 is reserved for the kernel (first or last); \
                 use -2147483647..2147483646",
            ),
            (
                abi::KWASM_LOAD_FAMILY,
                |r| r.family = 0,
                "family 0 is none of ipv4 (2), ipv6 (10) and inet (1)",
            ),
            (
                abi::KWASM_LOAD_FAMILY,
                |r| r.family = 7,
                "family 7 is none of ipv4 (2), ipv6 (10) and inet (1)",
            ),
            (
                0,
                |r| r.name[..4].copy_from_slice(&[b'a' as _, b' ' as _, b'b' as _, 0]),
                "program name \"a b\" has ' ': use letters, digits, '_', '-' and '.'",
            ),
            (
                abi::KWASM_LOAD_HOOK,
                |r| r.hook = 5,
                "hook 5 does not exist (0..4)",
            ),
            (
                abi::KWASM_LOAD_SNAPLEN,
                |r| r.snaplen = 65536,
                "snaplen 65536 is above the limit 65535",
            ),
            (
                abi::KWASM_LOAD_DEFAULT,
                |r| r.default_verdict = 2,
                "default verdict 2 is neither drop (0) nor accept (1)",
            ),
            (
                abi::KWASM_LOAD_FUEL,
                |r| r.fuel = 0,
                "fuel 0 is outside 1..4294967296",
            ),
            (
                0,
                |r| r.name = [b'x' as _; 32],
                "program name is not NUL-terminated within 32 bytes",
            ),
        ];
        for (flags, f, msg) in cases {
            let e = load(flags, f).unwrap_err();
            assert_eq!((e.errno, e.msg.as_str()), (EINVAL, msg));
        }
    }

    #[test]
    fn round_trip_through_c() {
        let o = load(abi::KWASM_LOAD_ALL_FLAGS, |r| {
            r.hook = 3;
            r.priority = -7;
            r.snaplen = 0;
            r.default_verdict = abi::KWASM_DROP;
            r.fuel = abi::KWASM_MAX_FUEL;
            r.family = abi::KWASM_FAMILY_INET;
            r.name[..3].copy_from_slice(&[b'a' as _, b'b' as _, b'c' as _]);
        })
        .unwrap();
        assert_eq!(Options::from_c(&o.to_c()).unwrap(), o);
        let o = Options { id: 7, ..o };
        assert_eq!(Options::from_c(&o.to_c()).unwrap().id, 7);
    }
}
