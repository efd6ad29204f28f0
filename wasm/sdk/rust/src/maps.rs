// SPDX-License-Identifier: MIT OR Apache-2.0
//! Maps: state kept across packets and shared with user space.
//!
//! A program declares its maps with [`kwasm_maps!`](crate::kwasm_maps),
//! which defines a typed static for each and writes its declaration (a
//! 256-byte `struct kwasm_map_decl`) into the module's `kwasm.maps` custom
//! section, where the kernel finds it at load:
//!
//! ```no_run
//! use core::mem::offset_of;
//! use kwasm_sdk::kwasm_maps;
//! use kwasm_sdk::maps::{self, Pod};
//!
//! #[repr(C)]
//! #[derive(Clone, Copy)]
//! struct Counters {
//!     packets: u64,
//!     bytes: u64,
//! }
//! // SAFETY: repr(C), two u64 fields: no padding, any bytes are a value.
//! unsafe impl Pod for Counters {}
//!
//! kwasm_maps! {
//!     static BY_SRC: HashMap<u32, Counters>(id 0, max 4096, key "ipv4",
//!         value "packets:u64,bytes:u64");
//!     static LIMITS: Array<u64>(id 1, max 4, value "u64");
//! }
//!
//! fn count(saddr: u32, len: u32) {
//!     // One atomic add per counter; an absent key is inserted zeroed first.
//!     let _ = BY_SRC.add_at::<{ offset_of!(Counters, packets) }>(&saddr, 1);
//!     let _ = BY_SRC.add_at::<{ offset_of!(Counters, bytes) }>(&saddr, len.into());
//!     if let Ok(c) = BY_SRC.get(&saddr) {
//!         if c.packets > LIMITS.get(0).unwrap_or(u64::MAX) {
//!             let _ = BY_SRC.remove(&saddr);
//!         }
//!     }
//!     let _ = LIMITS.set(1, &42, maps::ANY);
//! }
//! ```
//!
//! Each declaration gives the map's kind and key and value types, an
//! explicit id (0..255, unique in the program: the number the host
//! functions take), `max` entries and the display formats `kwasmctl` uses
//! (`docs/ABI.md`, "Display formats"; `""` shows hex). The map's name, as
//! `kwasmctl map dump` and `/proc/kwasm` show it, is the static's name in
//! lower case (`BY_SRC` is `by_src`). Arrays are indexed by a `u32` and
//! have the key format `"u32"`.
//!
//! Everything that can be checked at compile time is: the name (1..31
//! characters of `[A-Za-z0-9_]`), the formats' lengths (key below 72 bytes,
//! value below 128), the sizes and limits (`docs/ABI.md`, "Maps"), and
//! that the ids of one `kwasm_maps!` are distinct (declare all maps of a
//! program in one). A violation is a compile error ("evaluation of
//! constant value failed") whose message names the rule.
//!
//! Keys and values are [`Pod`] types, copied to and from the map as bytes.
//! Calls return [`MapError`] for what the data decides (an absent key, a
//! full map); what cannot be right whatever the data, e.g. a call outside a
//! packet run, traps in the host.

use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};
use core::ptr;

mod sys {
    #[link(wasm_import_module = "kwasm")]
    unsafe extern "C" {
        pub fn map_lookup(
            map: u32,
            key: *const u8,
            key_len: u32,
            val: *mut u8,
            val_len: u32,
        ) -> i32;
        pub fn map_update(
            map: u32,
            key: *const u8,
            key_len: u32,
            val: *const u8,
            val_len: u32,
            flags: u32,
        ) -> i32;
        pub fn map_delete(map: u32, key: *const u8, key_len: u32) -> i32;
        pub fn map_add(map: u32, key: *const u8, key_len: u32, offset: u32, delta: i64) -> i32;
        pub fn event_output(ptr: *const u8, len: u32) -> i32;
    }
}

/// Plain old data: a type a map stores as its bytes.
///
/// # Safety
///
/// Implement it only for a type that
/// - has no padding: every byte of its `size_of` belongs to a field
///   (recursively), so all of them are initialized when it is handed to the
///   kernel (hash keys are compared byte by byte, too);
/// - is valid for any bytes: the kernel and user space can write anything
///   into a value (`bool`, `char`, enums, references and `NonZero*` are
///   not);
/// - has a defined layout: `#[repr(C)]` or `#[repr(transparent)]` for
///   structs, so user space agrees where the fields are.
///
/// The integers and arrays of `Pod` are. For a struct of them, order the
/// fields so that none needs padding (largest alignment first) and check
/// its `size_of` is the sum of its fields':
///
/// ```
/// use kwasm_sdk::maps::Pod;
///
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Flow { bytes: u64, saddr: u32, dport: u16, proto: u8, pad: u8 }
/// // SAFETY: repr(C), Pod fields, 8 + 4 + 2 + 1 + 1 = 16 = size_of: no padding.
/// unsafe impl Pod for Flow {}
/// const _: () = assert!(core::mem::size_of::<Flow>() == 16);
/// ```
///
/// Pointers are not unsafe there but mean nothing outside the program.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty)*) => { $(
        // SAFETY: integers have no padding and every bit pattern is valid.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8 u16 u32 u64 u128 i8 i16 i32 i64 i128);

// SAFETY: an array of Pod has no padding between its elements (its stride
// is the element's size) and is valid for any bytes when they are.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// How [`HashMap::insert`] and [`Array::set`] treat a key that is present or
/// not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u32);

/// Create or replace.
pub const ANY: Flags = Flags(0);
/// Create only: [`MapError::Exists`] when the key is present (always for an
/// array element).
pub const NOEXIST: Flags = Flags(1);
/// Replace only: [`MapError::NotFound`] when the key is absent.
pub const EXIST: Flags = Flags(2);

impl Flags {
    /// The number the host function takes (`KWASM_MAP_*`).
    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// Why a map call did nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// `ENOENT`: the key is absent (lookup, delete, update with [`EXIST`]),
    /// or an array index is not below `max` entries.
    NotFound,
    /// `EEXIST`: an update with [`NOEXIST`] of a present key or of an array
    /// element.
    Exists,
    /// `ENOSPC`: the hash map is full.
    Full,
    /// `EBUSY`: the entry is busy; try again later.
    Busy,
    /// `EINVAL`, from the SDK without calling the host: an offset
    /// [`HashMap::add`] is given that is not 8-aligned or not inside the value.
    BadOffset,
    /// Another errno (positive), for a kernel newer than this SDK.
    Other(i32),
}

impl MapError {
    pub const ENOENT: i32 = 2;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;

    /// The error of a host function's negative result.
    pub const fn from_errno(errno: i32) -> Self {
        match errno {
            Self::ENOENT => Self::NotFound,
            Self::EEXIST => Self::Exists,
            Self::ENOSPC => Self::Full,
            Self::EBUSY => Self::Busy,
            Self::EINVAL => Self::BadOffset,
            e => Self::Other(e),
        }
    }

    /// The errno (positive), as `kwasm.h`'s `KWASM_E*`.
    pub const fn errno(self) -> i32 {
        match self {
            Self::NotFound => Self::ENOENT,
            Self::Exists => Self::EEXIST,
            Self::Full => Self::ENOSPC,
            Self::Busy => Self::EBUSY,
            Self::BadOffset => Self::EINVAL,
            Self::Other(e) => e,
        }
    }
}

/// A host function's result: 0 or a negative errno.
const fn result(rc: i32) -> Result<(), MapError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(MapError::from_errno(rc.wrapping_neg()))
    }
}

/// `size_of::<T>()` as the host functions take it. Declared sizes are at
/// most 4096 bytes (checked with the declaration), so it fits.
const fn len<T>() -> u32 {
    size_of::<T>() as u32
}

/// Checks at compile time that a `u64` at `OFFSET` lies inside `V`, 8-aligned.
struct CounterAt<V, const OFFSET: usize>(PhantomData<V>);

impl<V, const OFFSET: usize> CounterAt<V, OFFSET> {
    const OK: () = assert!(
        OFFSET.is_multiple_of(8) && OFFSET + 8 <= size_of::<V>(),
        "add_at: OFFSET must be 8-aligned with a u64 inside the value"
    );
}

/// A runtime offset as the host takes it, or [`MapError::BadOffset`].
const fn counter_offset<V>(offset: usize) -> Result<u32, MapError> {
    if offset.is_multiple_of(8) && offset < size_of::<V>() && size_of::<V>() - offset >= 8 {
        Ok(offset as u32)
    } else {
        Err(MapError::BadOffset)
    }
}

/// The common operations of every kind, by id and raw key.
struct Raw<K, V>(PhantomData<fn() -> (K, V)>);

impl<K: Pod, V: Pod> Raw<K, V> {
    fn get(id: u32, key: &K) -> Result<V, MapError> {
        let mut value = MaybeUninit::<V>::uninit();
        // SAFETY: `key` is readable for size_of::<K>() bytes, `value`
        // writable for size_of::<V>(); the host touches nothing else.
        let rc = unsafe {
            sys::map_lookup(
                id,
                ptr::from_ref(key).cast(),
                len::<K>(),
                value.as_mut_ptr().cast(),
                len::<V>(),
            )
        };
        result(rc)?;
        // SAFETY: on success the host wrote all size_of::<V>() bytes, and
        // any bytes are a valid V (Pod).
        Ok(unsafe { value.assume_init() })
    }

    fn update(id: u32, key: &K, value: &V, flags: Flags) -> Result<(), MapError> {
        // SAFETY: `key` and `value` are readable for their sizes, and fully
        // initialized (Pod: no padding); the host only reads them.
        result(unsafe {
            sys::map_update(
                id,
                ptr::from_ref(key).cast(),
                len::<K>(),
                ptr::from_ref(value).cast(),
                len::<V>(),
                flags.0,
            )
        })
    }

    fn add(id: u32, key: &K, offset: u32, delta: i64) -> Result<(), MapError> {
        // SAFETY: `key` is readable for its size and initialized (Pod); the
        // host only reads it.
        result(unsafe { sys::map_add(id, ptr::from_ref(key).cast(), len::<K>(), offset, delta) })
    }

    fn delete(id: u32, key: &K) -> Result<(), MapError> {
        // SAFETY: as for add.
        result(unsafe { sys::map_delete(id, ptr::from_ref(key).cast(), len::<K>()) })
    }
}

/// A hash map from `K` to `V` (`KWASM_MAP_KIND_HASH`): keys of 1..64 bytes,
/// at most `max` of them; every CPU sees the same entries.
pub struct HashMap<K, V> {
    id: u32,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> HashMap<K, V> {
    /// The map declared with `id`: for [`kwasm_maps!`](crate::kwasm_maps),
    /// which writes the declaration too.
    #[doc(hidden)]
    pub const fn __declared(id: u32) -> Self {
        Self {
            id,
            types: PhantomData,
        }
    }

    /// The map's id, as the host functions take it.
    pub const fn id(&self) -> u32 {
        self.id
    }
}

impl<K: Pod, V: Pod> HashMap<K, V> {
    /// A copy of the value of `key`; [`MapError::NotFound`] when absent.
    pub fn get(&self, key: &K) -> Result<V, MapError> {
        Raw::<K, V>::get(self.id, key)
    }

    /// Sets the value of `key`, as `flags` allow ([`ANY`], [`NOEXIST`],
    /// [`EXIST`]); [`MapError::Full`] for a new key when the map is full.
    pub fn insert(&self, key: &K, value: &V, flags: Flags) -> Result<(), MapError> {
        Raw::<K, V>::update(self.id, key, value, flags)
    }

    /// Removes `key`; [`MapError::NotFound`] when absent.
    pub fn remove(&self, key: &K) -> Result<(), MapError> {
        Raw::<K, V>::delete(self.id, key)
    }

    /// Adds `delta` to the `u64` at byte `OFFSET` of the value of `key`, as
    /// one atomic add (a counter shared by all CPUs needs no
    /// read-modify-write). An absent key is inserted with a zeroed value
    /// first ([`MapError::Full`] when the map is full).
    ///
    /// `OFFSET` is checked at compile time: 8-aligned, with 8 bytes inside
    /// the value. Name a field with `core::mem::offset_of!`, e.g.
    /// `add_at::<{ offset_of!(Counters, bytes) }>(&key, n)`; it must be a
    /// `u64` (or `i64`: the add wraps), which nothing can check.
    pub fn add_at<const OFFSET: usize>(&self, key: &K, delta: i64) -> Result<(), MapError> {
        let () = CounterAt::<V, OFFSET>::OK;
        Raw::<K, V>::add(self.id, key, OFFSET as u32, delta)
    }

    /// [`add_at`](Self::add_at) with the offset checked at run time:
    /// [`MapError::BadOffset`] (nothing done) when it is not 8-aligned or the
    /// u64 is not inside the value.
    pub fn add(&self, key: &K, offset: usize, delta: i64) -> Result<(), MapError> {
        Raw::<K, V>::add(self.id, key, counter_offset::<V>(offset)?, delta)
    }
}

/// The program's events ring (`KWASM_MAP_KIND_EVENTS`): records of type
/// `T` that user space reads with `kwasmctl events` (docs/ABI.md,
/// "Events"). A full ring drops the record and counts it; the program
/// never waits.
pub struct RingBuf<T> {
    id: u32,
    types: PhantomData<fn() -> T>,
}

impl<T> RingBuf<T> {
    /// The ring declared with `id`: for [`kwasm_maps!`](crate::kwasm_maps),
    /// which writes the declaration too.
    #[doc(hidden)]
    pub const fn __declared(id: u32) -> Self {
        Self {
            id,
            types: PhantomData,
        }
    }

    /// The ring's id (a program has one ring; the host finds it itself).
    pub const fn id(&self) -> u32 {
        self.id
    }
}

impl<T: Pod> RingBuf<T> {
    /// Writes `record` into the ring; [`MapError::Full`] when there is no
    /// room (the record is dropped and counted).
    pub fn output(&self, record: &T) -> Result<(), MapError> {
        // SAFETY: record is a Pod (all its size_of bytes initialized) that
        // the host reads during the call only.
        result(unsafe { sys::event_output(ptr::from_ref(record).cast(), len::<T>()) })
    }
}

macro_rules! array {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<V> {
            id: u32,
            types: PhantomData<fn() -> V>,
        }

        impl<V> $name<V> {
            /// The map declared with `id`: for
            /// [`kwasm_maps!`](crate::kwasm_maps), which writes the
            /// declaration too.
            #[doc(hidden)]
            pub const fn __declared(id: u32) -> Self {
                Self {
                    id,
                    types: PhantomData,
                }
            }

            /// The map's id, as the host functions take it.
            pub const fn id(&self) -> u32 {
                self.id
            }
        }

        impl<V: Pod> $name<V> {
            /// A copy of element `index`; [`MapError::NotFound`] when it
            /// is not below `max` entries.
            pub fn get(&self, index: u32) -> Result<V, MapError> {
                Raw::<u32, V>::get(self.id, &index)
            }

            /// Sets element `index` ([`ANY`] or [`EXIST`]: every element
            /// exists; [`NOEXIST`] is always [`MapError::Exists`]);
            /// [`MapError::NotFound`] when it is not below `max` entries.
            pub fn set(&self, index: u32, value: &V, flags: Flags) -> Result<(), MapError> {
                Raw::<u32, V>::update(self.id, &index, value, flags)
            }

            /// Adds `delta` to the `u64` at byte `OFFSET` of element
            /// `index`, as one atomic add; the offset is checked at compile
            /// time as for [`HashMap::add_at`].
            pub fn add_at<const OFFSET: usize>(&self, index: u32, delta: i64) -> Result<(), MapError> {
                let () = CounterAt::<V, OFFSET>::OK;
                Raw::<u32, V>::add(self.id, &index, OFFSET as u32, delta)
            }

            /// [`add_at`](Self::add_at) with the offset checked at run
            /// time, as [`HashMap::add`].
            pub fn add(&self, index: u32, offset: usize, delta: i64) -> Result<(), MapError> {
                Raw::<u32, V>::add(self.id, &index, counter_offset::<V>(offset)?, delta)
            }
        }
    };
}

array!(
    /// An array of `max` values indexed by a `u32` (`KWASM_MAP_KIND_ARRAY`),
    /// zeroed at load; every CPU sees the same elements.
    Array
);
array!(
    /// An array with one value per CPU for each index
    /// (`KWASM_MAP_KIND_PERCPU_ARRAY`): a program reads and writes the one
    /// of the CPU it runs on, without contention; user space sees all.
    PerCpuArray
);

/// `struct kwasm_map_decl` (include/uapi/kwasm.h).
pub mod decl {
    /// Bytes of one declaration.
    pub const LEN: usize = 256;
    /// `KWASM_MAP_DECL_V1`.
    pub const VERSION: u8 = 1;
    /// `KWASM_MAP_KIND_*`.
    pub const KIND_ARRAY: u8 = 1;
    pub const KIND_PERCPU_ARRAY: u8 = 2;
    pub const KIND_HASH: u8 = 3;
    pub const KIND_EVENTS: u8 = 4;
    /// Bytes before each record in an events ring; its smallest and
    /// largest size.
    pub const EVENT_HEADER_LEN: usize = 32;
    pub const EVENTS_MIN: u32 = 4096;
    pub const EVENTS_MAX: u32 = 16 << 20;
    /// Field sizes, NUL included.
    pub const NAME_LEN: usize = 32;
    pub const KEY_FMT_LEN: usize = 72;
    pub const VALUE_FMT_LEN: usize = 128;
    /// Offsets of the text fields.
    pub const NAME_AT: usize = 24;
    pub const KEY_FMT_AT: usize = NAME_AT + NAME_LEN;
    pub const VALUE_FMT_AT: usize = KEY_FMT_AT + KEY_FMT_LEN;
    /// `KWASM_MAP_IDS`, `KWASM_LIMIT_*`.
    pub const IDS: u32 = 256;
    pub const LIMIT_MAPS: usize = 32;
    pub const LIMIT_KEY: usize = 64;
    pub const LIMIT_VALUE: usize = 4096;
    pub const LIMIT_ENTRIES: u32 = 1 << 20;
}

const fn put(out: &mut [u8; decl::LEN], at: usize, bytes: &[u8]) {
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
}

/// A display format into its field; the NUL after it stays.
const fn put_fmt(out: &mut [u8; decl::LEN], at: usize, fmt: &str) {
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_graphic(),
            "kwasm_maps!: formats are printable ASCII without blanks"
        );
        i += 1;
    }
    put(out, at, b);
}

/// The 256 bytes of a map's declaration, computed at compile time by
/// [`kwasm_maps!`](crate::kwasm_maps): `name` is the static's, lower-cased.
/// Panics (a compile error there) on whatever breaks a rule it can check.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub const fn __decl(
    kind: u8,
    id: u32,
    key_size: usize,
    value_size: usize,
    max_entries: u32,
    name: &str,
    key_fmt: &str,
    value_fmt: &str,
) -> [u8; decl::LEN] {
    assert!(id < decl::IDS, "kwasm_maps!: ids are 0..255");
    match kind {
        decl::KIND_HASH => assert!(
            key_size >= 1 && key_size <= decl::LIMIT_KEY,
            "kwasm_maps!: a hash key takes 1..64 bytes"
        ),
        decl::KIND_ARRAY | decl::KIND_PERCPU_ARRAY => {
            assert!(key_size == 4, "kwasm_maps!: arrays are indexed by a u32")
        }
        decl::KIND_EVENTS => assert!(key_size == 0, "kwasm_maps!: a ring has no key"),
        _ => panic!("kwasm_maps!: not a map kind"),
    }
    assert!(
        value_size >= 1 && value_size <= decl::LIMIT_VALUE,
        "kwasm_maps!: a value takes 1..4096 bytes"
    );
    if kind == decl::KIND_EVENTS {
        assert!(
            max_entries.is_power_of_two()
                && max_entries >= decl::EVENTS_MIN
                && max_entries <= decl::EVENTS_MAX,
            "kwasm_maps!: a ring's size is a power of two from 4096 to 16 MiB"
        );
        assert!(
            value_size + decl::EVENT_HEADER_LEN <= max_entries as usize,
            "kwasm_maps!: a ring holds at least one record"
        );
    } else {
        assert!(
            max_entries >= 1 && max_entries <= decl::LIMIT_ENTRIES,
            "kwasm_maps!: max is 1..1048576 entries"
        );
    }
    assert!(
        key_fmt.len() < decl::KEY_FMT_LEN,
        "kwasm_maps!: a key format has at most 71 bytes"
    );
    assert!(
        value_fmt.len() < decl::VALUE_FMT_LEN,
        "kwasm_maps!: a value format has at most 127 bytes"
    );

    let mut out = [0u8; decl::LEN];
    out[0] = decl::VERSION;
    out[1] = kind;
    // flags (2..4) and reserved (20..24) stay 0
    put(&mut out, 4, &id.to_le_bytes());
    put(&mut out, 8, &(key_size as u32).to_le_bytes());
    put(&mut out, 12, &(value_size as u32).to_le_bytes());
    put(&mut out, 16, &max_entries.to_le_bytes());

    let n = name.as_bytes();
    assert!(
        !n.is_empty() && n.len() < decl::NAME_LEN,
        "kwasm_maps!: a map name has 1..31 characters"
    );
    let mut i = 0;
    while i < n.len() {
        assert!(
            n[i].is_ascii_alphanumeric() || n[i] == b'_',
            "kwasm_maps!: a map name is [A-Za-z0-9_]"
        );
        out[decl::NAME_AT + i] = n[i].to_ascii_lowercase();
        i += 1;
    }
    put_fmt(&mut out, decl::KEY_FMT_AT, key_fmt);
    put_fmt(&mut out, decl::VALUE_FMT_AT, value_fmt);
    out
}

/// Compile-time check of one [`kwasm_maps!`](crate::kwasm_maps): distinct
/// ids, at most 32 maps.
#[doc(hidden)]
pub const fn __check_ids(ids: &[u32]) {
    assert!(
        ids.len() <= decl::LIMIT_MAPS,
        "kwasm_maps!: a program has at most 32 maps"
    );
    let mut i = 0;
    while i < ids.len() {
        let mut j = i + 1;
        while j < ids.len() {
            assert!(ids[i] != ids[j], "kwasm_maps!: two maps with the same id");
            j += 1;
        }
        i += 1;
    }
}

/// Declares the program's maps: a typed static for each
/// ([`HashMap`](crate::maps::HashMap), [`Array`](crate::maps::Array),
/// [`PerCpuArray`](crate::maps::PerCpuArray)) and its entry in the `kwasm.maps`
/// custom section. The id comes first; hash maps give key and value
/// formats, arrays the value format (their key format is `"u32"`):
///
/// ```no_run
/// # use kwasm_sdk::{kwasm_maps, maps::Pod};
/// # #[repr(C)] #[derive(Clone, Copy)] pub struct Counters { packets: u64, bytes: u64 }
/// # // SAFETY: repr(C), two u64.
/// # unsafe impl Pod for Counters {}
/// kwasm_maps! {
///     /// Packets and bytes per source address.
///     pub static BY_SRC: HashMap<u32, Counters>(id 0, max 4096, key "ipv4",
///         value "packets:u64,bytes:u64");
///     static TOTAL: Array<u64>(id 1, max 1, value "packets:u64");
///     static SEEN: PerCpuArray<[u8; 64]>(id 2, max 16, value "");
/// }
/// ```
///
/// See the [`maps`](crate::maps) module for the names and the compile-time
/// checks. The kinds are words of the macro: nothing needs importing. Write
/// key and value types as they are or as aliases: paths with generic
/// arguments of their own (`Foo<u8>`) do not parse here.
///
/// # Compile errors
///
/// A rule broken is a compile error, e.g. a name over 31 characters:
///
/// ```compile_fail,E0080
/// kwasm_sdk::kwasm_maps! {
///     static THIS_MAP_NAME_IS_LONGER_THAN_31X: HashMap<u32, u64>(id 0, max 8,
///         key "ipv4", value "u64");
/// }
/// ```
///
/// two maps with the same id:
///
/// ```compile_fail,E0080
/// kwasm_sdk::kwasm_maps! {
///     static A: Array<u64>(id 3, max 8, value "u64");
///     static B: PerCpuArray<u64>(id 3, max 8, value "u64");
/// }
/// ```
///
/// a value over 4096 bytes:
///
/// ```compile_fail,E0080
/// kwasm_sdk::kwasm_maps! {
///     static BIG: HashMap<u32, [u8; 4097]>(id 0, max 8, key "", value "");
/// }
/// ```
///
/// a value format of 128 bytes or more:
///
/// ```compile_fail,E0080
/// kwasm_sdk::kwasm_maps! {
///     static F: Array<u64>(id 0, max 8, value "a_very_long_field_name_number_one:u32,a_very_long_field_name_number_two:u32,and_the_third_one_goes_over_the_limit_by_far:hex0000");
/// }
/// ```
///
/// and a counter offset outside the value (when the call is compiled):
///
/// ```compile_fail,E0080
/// kwasm_sdk::kwasm_maps! {
///     static C: HashMap<u32, [u64; 2]>(id 0, max 8, key "", value "");
/// }
/// fn main() {
///     let _ = C.add_at::<16>(&1, 1);
/// }
/// ```
///
/// The same declarations within the rules compile:
///
/// ```no_run
/// kwasm_sdk::kwasm_maps! {
///     static THIS_MAP_NAME_HAS_31_CHARACTERS: HashMap<u32, u64>(id 0, max 8,
///         key "ipv4", value "u64");
///     static A: Array<u64>(id 3, max 8, value "u64");
///     static B: PerCpuArray<u64>(id 4, max 8, value "u64");
///     static BIG: HashMap<u32, [u8; 4096]>(id 1, max 8, key "", value "");
///     static C: HashMap<u32, [u64; 2]>(id 2, max 8, key "", value "");
/// }
/// fn main() {
///     let _ = C.add_at::<8>(&1, 1);
/// }
/// ```
#[macro_export]
macro_rules! kwasm_maps {
    ($(
        $(#[$attr:meta])*
        $vis:vis static $name:ident : $kind:ident < $($ty:ty),+ > ( id $id:expr, $($param:tt)* );
    )*) => {
        $(
            $crate::__kwasm_map! {
                [$(#[$attr])*] [$vis] $name $kind [$($ty),+] [$id] ($($param)*)
            }
        )*
        const _: () = $crate::maps::__check_ids(&[$($id),*]);
    };
}

/// One map of [`kwasm_maps!`]: the static and its declaration.
#[doc(hidden)]
#[macro_export]
macro_rules! __kwasm_map {
    ([$($attr:tt)*] [$vis:vis] $name:ident HashMap [$k:ty, $v:ty] [$id:expr]
     (max $max:expr, key $kfmt:expr, value $vfmt:expr $(,)?)) => {
        $($attr)*
        $vis static $name: $crate::maps::HashMap<$k, $v> = $crate::maps::HashMap::__declared($id);
        $crate::__kwasm_map!(@decl $crate::maps::decl::KIND_HASH, $id, $k, $v, $max,
            $name, $kfmt, $vfmt);
    };
    ([$($attr:tt)*] [$vis:vis] $name:ident Array [$v:ty] [$id:expr]
     (max $max:expr, value $vfmt:expr $(,)?)) => {
        $($attr)*
        $vis static $name: $crate::maps::Array<$v> = $crate::maps::Array::__declared($id);
        $crate::__kwasm_map!(@decl $crate::maps::decl::KIND_ARRAY, $id, u32, $v, $max,
            $name, "u32", $vfmt);
    };
    ([$($attr:tt)*] [$vis:vis] $name:ident PerCpuArray [$v:ty] [$id:expr]
     (max $max:expr, value $vfmt:expr $(,)?)) => {
        $($attr)*
        $vis static $name: $crate::maps::PerCpuArray<$v> =
            $crate::maps::PerCpuArray::__declared($id);
        $crate::__kwasm_map!(@decl $crate::maps::decl::KIND_PERCPU_ARRAY, $id, u32, $v, $max,
            $name, "u32", $vfmt);
    };
    ([$($attr:tt)*] [$vis:vis] $name:ident RingBuf [$t:ty] [$id:expr]
     (size $size:expr, value $vfmt:expr $(,)?)) => {
        $($attr)*
        $vis static $name: $crate::maps::RingBuf<$t> = $crate::maps::RingBuf::__declared($id);
        $crate::__kwasm_map!(@decl $crate::maps::decl::KIND_EVENTS, $id, (), $t, $size,
            $name, "", $vfmt);
    };
    (@decl $kind:expr, $id:expr, $k:ty, $v:ty, $max:expr, $name:ident, $kfmt:expr, $vfmt:expr) => {
        const _: () = {
            #[unsafe(link_section = "kwasm.maps")]
            #[used]
            static DECL: [u8; $crate::maps::decl::LEN] = $crate::maps::__decl(
                $kind,
                $id,
                ::core::mem::size_of::<$k>(),
                ::core::mem::size_of::<$v>(),
                $max,
                ::core::stringify!($name),
                $kfmt,
                $vfmt,
            );
        };
    };
    ([$($attr:tt)*] [$vis:vis] $name:ident $kind:ident [$($ty:ty),+] [$id:expr] ($($param:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "kwasm_maps!: ", ::core::stringify!($name), ": write HashMap<K, V>(id N, max M, ",
            "key \"fmt\", value \"fmt\"), Array<V>/PerCpuArray<V>(id N, max M, value \"fmt\") ",
            "or RingBuf<T>(id N, size BYTES, value \"fmt\")"
        ));
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Counters {
        packets: u64,
        bytes: u64,
    }
    // SAFETY: repr(C), two u64: no padding, any bytes valid.
    unsafe impl Pod for Counters {}

    crate::kwasm_maps! {
        /// As wasm/examples/src_counters.c declares it.
        static BY_SRC: HashMap<u32, Counters>(id 0, max 4096, key "ipv4",
            value "packets:u64,bytes:u64");
        pub(crate) static TOTALS: Array<u64>(id 7, max 4, value "packets:u64",);
        static SCRATCH: PerCpuArray<[u8; 40]>(id 255, max 1, value "");
        static EVENTS: RingBuf<[u32; 3]>(id 3, size 65536, value "saddr:ipv4,ports:u32,proto:u32");
    }

    /// The entry as the C SDK's KWASM_MAP_DECL_() assembles it.
    #[allow(clippy::too_many_arguments)]
    fn c_decl(kind: u8, id: u32, ks: u32, vs: u32, max: u32, n: &str, k: &str, v: &str) -> Vec<u8> {
        let mut out = vec![1, kind, 0, 0];
        for x in [id, ks, vs, max, 0] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for (s, width) in [(n, 32), (k, 72), (v, 128)] {
            out.extend_from_slice(s.as_bytes());
            out.resize(out.len() + width - s.len(), 0);
        }
        out
    }

    #[test]
    fn declarations_are_the_c_sdks_bytes() {
        let d = __decl(3, 0, 4, 16, 4096, "BY_SRC", "ipv4", "packets:u64,bytes:u64");
        let c = c_decl(3, 0, 4, 16, 4096, "by_src", "ipv4", "packets:u64,bytes:u64");
        assert_eq!(d.len(), 256);
        assert_eq!(&d[..], &c[..]);
        let d = __decl(1, 7, 4, 8, 4, "TOTALS", "u32", "packets:u64");
        assert_eq!(
            &d[..],
            &c_decl(1, 7, 4, 8, 4, "totals", "u32", "packets:u64")[..]
        );
        let d = __decl(2, 255, 4, 40, 1, "SCRATCH", "u32", "");
        assert_eq!(&d[..], &c_decl(2, 255, 4, 40, 1, "scratch", "u32", "")[..]);
        // Longest name and formats that fit.
        let (n, k, v) = ("N".repeat(31), "k".repeat(71), "v".repeat(127));
        let d = __decl(3, 9, 64, 4096, 1 << 20, &n, &k, &v);
        let c = c_decl(3, 9, 64, 4096, 1 << 20, &n.to_lowercase(), &k, &v);
        assert_eq!(&d[..], &c[..]);
    }

    #[test]
    fn the_macro_types_the_statics() {
        assert_eq!((BY_SRC.id(), TOTALS.id(), SCRATCH.id()), (0, 7, 255));
        let _: &HashMap<u32, Counters> = &BY_SRC;
        let _: &Array<u64> = &TOTALS;
        let _: &PerCpuArray<[u8; 40]> = &SCRATCH;
        let _: &RingBuf<[u32; 3]> = &EVENTS;
        assert_eq!(EVENTS.id(), 3);
    }

    #[test]
    fn a_ring_is_declared_as_the_c_sdk_does() {
        let fmt = "saddr:ipv4,ports:u32,proto:u32";
        let d = __decl(4, 3, 0, 12, 65536, "EVENTS", "", fmt);
        assert_eq!(&d[..], &c_decl(4, 3, 0, 12, 65536, "events", "", fmt)[..]);
    }

    #[test]
    fn errors_and_errnos() {
        for (rc, e) in [
            (0, Ok(())),
            (-2, Err(MapError::NotFound)),
            (-17, Err(MapError::Exists)),
            (-28, Err(MapError::Full)),
            (-16, Err(MapError::Busy)),
            (-22, Err(MapError::BadOffset)),
            (-5, Err(MapError::Other(5))),
        ] {
            assert_eq!(result(rc), e, "{rc}");
            if let Err(e) = e {
                assert_eq!(-e.errno(), rc);
            }
        }
        assert_eq!((ANY.bits(), NOEXIST.bits(), EXIST.bits()), (0, 1, 2));
    }

    #[test]
    fn counter_offsets() {
        assert_eq!(counter_offset::<Counters>(0), Ok(0));
        assert_eq!(counter_offset::<Counters>(8), Ok(8));
        for bad in [4, 12, 16, 24, usize::MAX - 7] {
            assert_eq!(counter_offset::<Counters>(bad), Err(MapError::BadOffset));
        }
        assert_eq!(counter_offset::<u32>(0), Err(MapError::BadOffset));
        let () = CounterAt::<Counters, 8>::OK;
    }

    #[test]
    fn ids_must_differ() {
        __check_ids(&[0, 1, 255]);
        assert!(std::panic::catch_unwind(|| __check_ids(&[3, 1, 3])).is_err());
    }

    #[test]
    fn rules_checked_at_compile_time() {
        let bad: [fn(); 9] = [
            || {
                let _ = __decl(3, 0, 4, 8, 1, "", "", "");
            },
            || {
                let _ = __decl(3, 0, 4, 8, 1, &"n".repeat(32), "", "");
            },
            || {
                let _ = __decl(3, 0, 4, 8, 1, "by-src", "", "");
            },
            || {
                let _ = __decl(3, 0, 4, 8, 1, "n", &"k".repeat(72), "");
            },
            || {
                let _ = __decl(3, 0, 4, 8, 1, "n", "", &"v".repeat(128));
            },
            || {
                let _ = __decl(3, 256, 4, 8, 1, "n", "", "");
            },
            || {
                let _ = __decl(3, 0, 65, 8, 1, "n", "", "");
            },
            || {
                let _ = __decl(1, 0, 8, 8, 1, "n", "", "");
            },
            || {
                let _ = __decl(3, 0, 4, 8, 0, "n", "", "");
            },
        ];
        for (i, f) in bad.into_iter().enumerate() {
            assert!(std::panic::catch_unwind(f).is_err(), "case {i}");
        }
    }
}
