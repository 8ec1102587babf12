// SPDX-License-Identifier: GPL-2.0

//! Control-queue messages (`include/uapi/linux/virtio_gpu.h`).
//!
//! Every message is described once, by `wire_msg!`: a `#[repr(C)]` struct of the fields
//! that follow the header, named as in C. Rust's C layout of that struct yields the size
//! and every field offset, the encoder writes each field little-endian at its offset, the
//! decoder reads it back, and the kernel build asserts the same offsets against bindgen's
//! view of the C header (`layout.rs`). Nothing is encoded by hand-written byte offsets.
//!
//! Commands are written into caller-provided buffers; responses are parsed from the bytes
//! the device wrote, with the response type and length checked before any field is trusted.
//! Nothing here allocates or panics, whatever the input.

use core::mem::{offset_of, size_of};

/// Command and response type codes.
pub mod cmd {
    pub const GET_DISPLAY_INFO: u32 = 0x0100;
    pub const RESOURCE_CREATE_2D: u32 = 0x0101;
    pub const RESOURCE_UNREF: u32 = 0x0102;
    pub const SET_SCANOUT: u32 = 0x0103;
    pub const RESOURCE_FLUSH: u32 = 0x0104;
    pub const TRANSFER_TO_HOST_2D: u32 = 0x0105;
    pub const RESOURCE_ATTACH_BACKING: u32 = 0x0106;
    pub const RESOURCE_DETACH_BACKING: u32 = 0x0107;
    pub const GET_CAPSET_INFO: u32 = 0x0108;
    pub const GET_CAPSET: u32 = 0x0109;
    pub const GET_EDID: u32 = 0x010a;
    pub const RESOURCE_ASSIGN_UUID: u32 = 0x010b;
    pub const RESOURCE_CREATE_BLOB: u32 = 0x010c;
    pub const SET_SCANOUT_BLOB: u32 = 0x010d;
    pub const CTX_CREATE: u32 = 0x0200;
    pub const CTX_DESTROY: u32 = 0x0201;
    pub const CTX_ATTACH_RESOURCE: u32 = 0x0202;
    pub const CTX_DETACH_RESOURCE: u32 = 0x0203;
    pub const RESOURCE_CREATE_3D: u32 = 0x0204;
    pub const TRANSFER_TO_HOST_3D: u32 = 0x0205;
    pub const TRANSFER_FROM_HOST_3D: u32 = 0x0206;
    pub const SUBMIT_3D: u32 = 0x0207;
    pub const RESOURCE_MAP_BLOB: u32 = 0x0208;
    pub const RESOURCE_UNMAP_BLOB: u32 = 0x0209;
    pub const UPDATE_CURSOR: u32 = 0x0300;
    pub const MOVE_CURSOR: u32 = 0x0301;

    pub const RESP_OK_NODATA: u32 = 0x1100;
    pub const RESP_OK_DISPLAY_INFO: u32 = 0x1101;
    pub const RESP_OK_CAPSET_INFO: u32 = 0x1102;
    pub const RESP_OK_CAPSET: u32 = 0x1103;
    pub const RESP_OK_EDID: u32 = 0x1104;
    pub const RESP_OK_RESOURCE_UUID: u32 = 0x1105;
    pub const RESP_OK_MAP_INFO: u32 = 0x1106;

    pub const RESP_ERR_UNSPEC: u32 = 0x1200;
    pub const RESP_ERR_OUT_OF_MEMORY: u32 = 0x1201;
    pub const RESP_ERR_INVALID_SCANOUT_ID: u32 = 0x1202;
    pub const RESP_ERR_INVALID_RESOURCE_ID: u32 = 0x1203;
    pub const RESP_ERR_INVALID_CONTEXT_ID: u32 = 0x1204;
    pub const RESP_ERR_INVALID_PARAMETER: u32 = 0x1205;
}

/// Size of `struct virtio_gpu_ctrl_hdr`.
pub const HDR_SIZE: usize = size_of::<CtrlHdr>();
/// `VIRTIO_GPU_FLAG_FENCE`.
pub const FLAG_FENCE: u32 = 1 << 0;
/// `VIRTIO_GPU_FLAG_INFO_RING_IDX`.
pub const FLAG_INFO_RING_IDX: u32 = 1 << 1;
/// Byte offset of `fence_id` in `virtio_gpu_ctrl_hdr`: a queue that hands out fence ids in
/// ring order writes it into an encoded command just before queueing it.
pub const HDR_FENCE_ID_OFFSET: usize = 8;
/// Capability set ids are 1..=63 (virtio spec); the driver keeps them in a `u64` mask.
pub const MAX_CAPSET_ID: u32 = 63;
/// Offsets of the fields of `struct virtio_gpu_config`.
pub mod config {
    pub const EVENTS_READ: usize = 0;
    pub const EVENTS_CLEAR: usize = 4;
    pub const NUM_SCANOUTS: usize = 8;
    pub const NUM_CAPSETS: usize = 12;
    pub const BLOB_ALIGNMENT: usize = 16;
}
/// `VIRTIO_GPU_SHM_ID_HOST_VISIBLE`.
pub const SHM_ID_HOST_VISIBLE: u8 = 1;

/// `VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK`: the capset id bits of `CTX_CREATE`'s
/// `context_init`.
pub const CONTEXT_INIT_CAPSET_ID_MASK: u32 = 0xff;

/// `VIRTIO_GPU_BLOB_MEM_GUEST`: the blob is guest memory (the mem entries).
pub const BLOB_MEM_GUEST: u32 = 1;
/// `VIRTIO_GPU_BLOB_MEM_HOST3D`: the blob is host memory made by the context (`blob_id`).
pub const BLOB_MEM_HOST3D: u32 = 2;
/// `VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST`: host-created blob backed by guest memory.
pub const BLOB_MEM_HOST3D_GUEST: u32 = 3;
/// `VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE`: the guest will map it (`RESOURCE_MAP_BLOB`).
pub const BLOB_FLAG_USE_MAPPABLE: u32 = 1;
/// `VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE`: it may be shared with other contexts/processes.
pub const BLOB_FLAG_USE_SHAREABLE: u32 = 2;
/// `VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE`: it may be shared with other virtio devices.
pub const BLOB_FLAG_USE_CROSS_DEVICE: u32 = 4;

/// `enum virtio_gpu_formats`: the formats of 2D resources.
pub mod formats {
    /// `VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM`.
    pub const B8G8R8A8_UNORM: u32 = 1;
    /// `VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM`.
    pub const B8G8R8X8_UNORM: u32 = 2;
    /// `VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM`.
    pub const A8R8G8B8_UNORM: u32 = 3;
    /// `VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM`.
    pub const X8R8G8B8_UNORM: u32 = 4;
    /// `VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM`.
    pub const R8G8B8A8_UNORM: u32 = 67;
    /// `VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM`.
    pub const X8B8G8R8_UNORM: u32 = 68;
    /// `VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM`.
    pub const A8B8G8R8_UNORM: u32 = 121;
    /// `VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM`.
    pub const R8G8B8X8_UNORM: u32 = 134;

    /// Whether `format` is one of the formats a 2D (non-virgl) device accepts.
    pub const fn is_2d_format(format: u32) -> bool {
        matches!(
            format,
            B8G8R8A8_UNORM
                | B8G8R8X8_UNORM
                | A8R8G8B8_UNORM
                | X8R8G8B8_UNORM
                | R8G8B8A8_UNORM
                | X8B8G8R8_UNORM
                | A8B8G8R8_UNORM
                | R8G8B8X8_UNORM
        )
    }
}

/// Why a response could not be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespError {
    /// The device answered with one of the `RESP_ERR_*` codes.
    Device(u32),
    /// The device answered with a success type other than the one the command expects.
    UnexpectedType(u32),
    /// The response is shorter than its type requires.
    Truncated,
    /// A field holds a value the protocol does not allow (e.g. capset id 0).
    BadValue,
}

/// A kernel-style errno (positive) for a response error, so every failure of the device
/// reaches userspace as a clean error code.
pub const fn resp_errno(e: RespError) -> i32 {
    const EINVAL: i32 = 22;
    const ENOMEM: i32 = 12;
    const EIO: i32 = 5;
    const EPROTO: i32 = 71;
    match e {
        RespError::Device(cmd::RESP_ERR_OUT_OF_MEMORY) => ENOMEM,
        RespError::Device(
            cmd::RESP_ERR_INVALID_SCANOUT_ID
            | cmd::RESP_ERR_INVALID_RESOURCE_ID
            | cmd::RESP_ERR_INVALID_CONTEXT_ID
            | cmd::RESP_ERR_INVALID_PARAMETER,
        ) => EINVAL,
        RespError::Device(_) => EIO,
        RespError::UnexpectedType(_) | RespError::Truncated | RespError::BadValue => EPROTO,
    }
}

/// The buffer given to an encoder is too short for what it must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortBuffer;

/// The bytes of `b` from `off` on.
fn tail_mut(b: &mut [u8], off: usize) -> Result<&mut [u8], ShortBuffer> {
    b.get_mut(off..).ok_or(ShortBuffer)
}

/// A value with a fixed little-endian wire encoding of [`Wire::SIZE`] bytes: the integers,
/// byte arrays and the structs nested in messages.
pub trait Wire: Copy {
    /// Encoded size, equal to the size of the C type.
    const SIZE: usize;

    /// Writes the encoding into the first [`Wire::SIZE`] bytes of `out` (padding as zero).
    fn write_le(&self, out: &mut [u8]) -> Result<(), ShortBuffer>;

    /// Reads a value from the first [`Wire::SIZE`] bytes of `b`; `None` if `b` is shorter.
    fn read_le(b: &[u8]) -> Option<Self>;
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const SIZE: usize = size_of::<$t>();

            fn write_le(&self, out: &mut [u8]) -> Result<(), ShortBuffer> {
                *out.first_chunk_mut().ok_or(ShortBuffer)? = self.to_le_bytes();
                Ok(())
            }

            fn read_le(b: &[u8]) -> Option<Self> {
                b.first_chunk().map(|c| <$t>::from_le_bytes(*c))
            }
        }
    )*};
}
wire_int!(u8, u32, u64);

impl<const N: usize> Wire for [u8; N] {
    const SIZE: usize = N;

    fn write_le(&self, out: &mut [u8]) -> Result<(), ShortBuffer> {
        *out.first_chunk_mut().ok_or(ShortBuffer)? = *self;
        Ok(())
    }

    fn read_le(b: &[u8]) -> Option<Self> {
        b.first_chunk().copied()
    }
}

/// Describes a C struct nested in messages (`struct virtio_gpu_rect` ...): a `#[repr(C)]`
/// Rust struct with the C fields (padding fields left out: C pads explicitly exactly where
/// the C layout rules pad) and its [`Wire`] encoding, each field at its `offset_of!`.
macro_rules! wire_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident as $c:ident {
            $($(#[$fm:meta])* pub $f:ident: $t:ty),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[doc = concat!("\n\nWire layout: `struct ", stringify!($c), "`.")]
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
        }

        impl Wire for $name {
            const SIZE: usize = size_of::<Self>();

            fn write_le(&self, out: &mut [u8]) -> Result<(), ShortBuffer> {
                let out = out.get_mut(..Self::SIZE).ok_or(ShortBuffer)?;
                out.fill(0);
                $(self.$f.write_le(tail_mut(out, offset_of!(Self, $f))?)?;)*
                Ok(())
            }

            fn read_le(b: &[u8]) -> Option<Self> {
                if b.len() < Self::SIZE {
                    return None;
                }
                Some(Self {
                    $($f: <$t as Wire>::read_le(b.get(offset_of!(Self, $f)..)?)?,)*
                })
            }
        }
    };
}

/// A control-queue message: the C struct is a [`CtrlHdr`] followed by the fields of the
/// implementing struct.
///
/// Implemented by `wire_msg!` for commands and for the responses that carry data alike, so
/// a test (or a fake device) can build and parse either direction.
pub trait Msg: Sized {
    /// The header's type code (`VIRTIO_GPU_CMD_*` or `VIRTIO_GPU_RESP_OK_*`).
    const TYPE: u32;
    /// Size of the C struct, header included.
    const SIZE: usize;

    /// Writes the fields after the header into the first `SIZE - HDR_SIZE` bytes of `body`.
    fn write_body(&self, body: &mut [u8]) -> Result<(), ShortBuffer>;

    /// Reads the fields after the header; `None` if `body` is too short.
    fn read_body(body: &[u8]) -> Option<Self>;

    /// Writes the message into the first [`Msg::SIZE`] bytes of `out`: `hdr` with its type
    /// replaced by [`Msg::TYPE`], then the fields; padding is zeroed.
    fn encode_into(&self, hdr: &CtrlHdr, out: &mut [u8]) -> Result<(), ShortBuffer> {
        let out = out.get_mut(..Self::SIZE).ok_or(ShortBuffer)?;
        out.fill(0);
        CtrlHdr {
            type_: Self::TYPE,
            ..*hdr
        }
        .write_le(out)?;
        self.write_body(tail_mut(out, HDR_SIZE)?)
    }

    /// Parses a message of this type after [`check_resp`] (device errors, type, length).
    fn decode(b: &[u8]) -> Result<Self, RespError> {
        check_resp(b, Self::TYPE, Self::SIZE)?;
        b.get(HDR_SIZE..)
            .and_then(Self::read_body)
            .ok_or(RespError::Truncated)
    }
}

/// Describes messages: for each `pub struct Name = TYPE;` a `#[repr(C, align(8))]` struct of
/// the fields following the header in `struct c_name` (C names; trailing and inner padding
/// fields left out), implementing [`Msg`] plus an `encode` returning a byte array.
///
/// Several names may share one layout (`TRANSFER_TO_HOST_3D`/`TRANSFER_FROM_HOST_3D`).
/// `align(8)` is the alignment the C struct takes from the header's `fence_id`: it rounds
/// the size up exactly as C's explicit trailing `padding` does.
macro_rules! wire_msg {
    (
        $($(#[$m:meta])* pub struct $name:ident = $ty:ident;)+
        as $c:ident $body:tt
    ) => {
        $(wire_msg!(@one [$(#[$m])*] $name $ty $c $body);)+
    };
    (
        @one [$(#[$m:meta])*] $name:ident $ty:ident $c:ident {
            $($(#[$fm:meta])* pub $f:ident: $t:ty),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[doc = concat!(
            "\n\nWire layout: `struct ", stringify!($c), "` of type `", stringify!($ty), "`."
        )]
        #[repr(C, align(8))]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
        }

        impl Msg for $name {
            const TYPE: u32 = cmd::$ty;
            const SIZE: usize = HDR_SIZE + size_of::<Self>();

            fn write_body(&self, body: &mut [u8]) -> Result<(), ShortBuffer> {
                let body = body.get_mut(..size_of::<Self>()).ok_or(ShortBuffer)?;
                body.fill(0);
                $(self.$f.write_le(tail_mut(body, offset_of!(Self, $f))?)?;)*
                Ok(())
            }

            fn read_body(body: &[u8]) -> Option<Self> {
                if body.len() < size_of::<Self>() {
                    return None;
                }
                Some(Self {
                    $($f: <$t as Wire>::read_le(body.get(offset_of!(Self, $f)..)?)?,)*
                })
            }
        }

        // The trait's items again as inherent ones, so callers need not import [`Msg`].
        impl $name {
            /// [`Msg::TYPE`].
            pub const TYPE: u32 = <Self as Msg>::TYPE;
            /// [`Msg::SIZE`].
            pub const SIZE: usize = <Self as Msg>::SIZE;

            /// The message with header `hdr` (its type replaced by this message's).
            pub fn encode(&self, hdr: &CtrlHdr) -> [u8; $name::SIZE] {
                let mut b = [0u8; $name::SIZE];
                // Cannot fail: `b` is exactly `SIZE` bytes.
                let _ = Msg::encode_into(self, hdr, &mut b);
                b
            }

            /// [`Msg::encode_into`].
            pub fn encode_into(&self, hdr: &CtrlHdr, out: &mut [u8]) -> Result<(), ShortBuffer> {
                Msg::encode_into(self, hdr, out)
            }

            /// [`Msg::decode`].
            pub fn decode(b: &[u8]) -> Result<Self, RespError> {
                <Self as Msg>::decode(b)
            }
        }
    };
}

wire_struct! {
    /// `struct virtio_gpu_ctrl_hdr`, the start of every message.
    #[derive(Default)]
    pub struct CtrlHdr as virtio_gpu_ctrl_hdr {
        /// `VIRTIO_GPU_CMD_*` / `VIRTIO_GPU_RESP_*` (C: `type`).
        pub type_: u32,
        /// `FLAG_FENCE`, `FLAG_INFO_RING_IDX`.
        pub flags: u32,
        /// Fence signalled by the response, with `FLAG_FENCE`.
        pub fence_id: u64,
        /// 3D context the command belongs to (0: none).
        pub ctx_id: u32,
        /// Fence timeline of the context, with `FLAG_INFO_RING_IDX`.
        pub ring_idx: u8,
    }
}

impl CtrlHdr {
    /// A header for command `type_` outside any context and without a fence.
    pub const fn cmd(type_: u32) -> Self {
        Self {
            type_,
            flags: 0,
            fence_id: 0,
            ctx_id: 0,
            ring_idx: 0,
        }
    }

    /// A header for a command of 3D context `ctx_id`, without a fence. Its type is set by
    /// [`Msg::encode_into`].
    pub const fn ctx(ctx_id: u32) -> Self {
        Self {
            ctx_id,
            ..Self::cmd(0)
        }
    }

    /// The same header asking the device to signal fence `fence_id` when the command is
    /// done, on timeline `ring_idx` of the context if given (`FLAG_INFO_RING_IDX`).
    pub const fn with_fence(self, fence_id: u64, ring_idx: Option<u8>) -> Self {
        let (flags, ring_idx) = match ring_idx {
            Some(r) => (self.flags | FLAG_FENCE | FLAG_INFO_RING_IDX, r),
            None => (self.flags | FLAG_FENCE, 0),
        };
        Self {
            flags,
            fence_id,
            ring_idx,
            ..self
        }
    }

    /// Writes the header into the first [`HDR_SIZE`] bytes of `b`; a shorter `b` is left
    /// unchanged (use [`Wire::write_le`] to learn about it).
    pub fn encode(&self, b: &mut [u8]) {
        let _ = self.write_le(b);
    }

    /// Reads a header; `None` if `b` is shorter than a header.
    pub fn decode(b: &[u8]) -> Option<Self> {
        Self::read_le(b)
    }
}

wire_struct! {
    /// A rectangle of a 2D resource.
    #[derive(Default)]
    pub struct Rect as virtio_gpu_rect {
        /// Left edge.
        pub x: u32,
        /// Top edge.
        pub y: u32,
        /// Width.
        pub width: u32,
        /// Height.
        pub height: u32,
    }
}

wire_struct! {
    /// A box of a 3D resource.
    #[derive(Default)]
    pub struct Box3d as virtio_gpu_box {
        /// Origin.
        pub x: u32,
        /// Origin.
        pub y: u32,
        /// Origin.
        pub z: u32,
        /// Width.
        pub w: u32,
        /// Height.
        pub h: u32,
        /// Depth.
        pub d: u32,
    }
}

wire_struct! {
    /// One contiguous range of guest memory backing a resource; arrays of these follow
    /// `RESOURCE_ATTACH_BACKING` and `RESOURCE_CREATE_BLOB` (see [`WithEntries`]).
    #[derive(Default)]
    pub struct MemEntry as virtio_gpu_mem_entry {
        /// Guest physical (DMA) address.
        pub addr: u64,
        /// Length in bytes.
        pub length: u32,
    }
}

/// Checks that `resp` is a response of type `expected` at least `min_len` bytes long.
pub fn check_resp(resp: &[u8], expected: u32, min_len: usize) -> Result<CtrlHdr, RespError> {
    let hdr = CtrlHdr::decode(resp).ok_or(RespError::Truncated)?;
    if (cmd::RESP_ERR_UNSPEC..cmd::RESP_ERR_UNSPEC + 0x100).contains(&hdr.type_) {
        return Err(RespError::Device(hdr.type_));
    }
    if hdr.type_ != expected {
        return Err(RespError::UnexpectedType(hdr.type_));
    }
    if resp.len() < min_len {
        return Err(RespError::Truncated);
    }
    Ok(hdr)
}

/// Size of a `RESP_OK_NODATA` response.
pub const RESP_NODATA_SIZE: usize = HDR_SIZE;

/// Accepts a `RESP_OK_NODATA` answer, the success response of most commands.
pub fn decode_nodata(resp: &[u8]) -> Result<(), RespError> {
    check_resp(resp, cmd::RESP_OK_NODATA, RESP_NODATA_SIZE).map(|_| ())
}

wire_msg! {
    /// Asks for the id, version and size of capset number `capset_index`.
    pub struct GetCapsetInfo = GET_CAPSET_INFO;
    as virtio_gpu_get_capset_info {
        /// Index, `0..num_capsets`.
        pub capset_index: u32,
    }
}

wire_msg! {
    /// The answer to [`GetCapsetInfo`]; see [`decode_capset_info`].
    pub struct RespCapsetInfo = RESP_OK_CAPSET_INFO;
    as virtio_gpu_resp_capset_info {
        /// Capset id.
        pub capset_id: u32,
        /// Highest version the host supports.
        pub capset_max_version: u32,
        /// Size of the capset data.
        pub capset_max_size: u32,
    }
}

wire_msg! {
    /// Asks for the data of a capset (answered by `RESP_OK_CAPSET`, see [`decode_capset`]).
    pub struct GetCapset = GET_CAPSET;
    as virtio_gpu_get_capset {
        /// Capset id.
        pub capset_id: u32,
        /// Version asked for.
        pub capset_version: u32,
    }
}

/// `VIRTIO_GPU_CMD_GET_CAPSET_INFO` (`struct virtio_gpu_get_capset_info`).
pub const GET_CAPSET_INFO_SIZE: usize = <GetCapsetInfo as Msg>::SIZE;
/// `struct virtio_gpu_resp_capset_info`.
pub const RESP_CAPSET_INFO_SIZE: usize = <RespCapsetInfo as Msg>::SIZE;

/// Encodes `GET_CAPSET_INFO` for capset number `index`.
pub fn encode_get_capset_info(index: u32) -> [u8; GET_CAPSET_INFO_SIZE] {
    GetCapsetInfo {
        capset_index: index,
    }
    .encode(&CtrlHdr::default())
}

/// One capability set as reported by `GET_CAPSET_INFO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapsetInfo {
    /// Capset id, `1..=MAX_CAPSET_ID`.
    pub id: u32,
    /// Highest version the host supports.
    pub max_version: u32,
    /// Size of the capset data, `1..=MAX_CAPSET_SIZE`.
    pub max_size: u32,
}

/// Largest capset the driver accepts from the host: bounds the allocation a malicious or
/// buggy host can make the guest perform (virgl2 caps are ~1.6 KiB, venus < 1 KiB).
pub const MAX_CAPSET_SIZE: u32 = 64 * 1024;

/// Parses and validates a `RESP_OK_CAPSET_INFO`.
pub fn decode_capset_info(resp: &[u8]) -> Result<CapsetInfo, RespError> {
    let r = RespCapsetInfo::decode(resp)?;
    let info = CapsetInfo {
        id: r.capset_id,
        max_version: r.capset_max_version,
        max_size: r.capset_max_size,
    };
    if info.id == 0
        || info.id > MAX_CAPSET_ID
        || info.max_size == 0
        || info.max_size > MAX_CAPSET_SIZE
    {
        return Err(RespError::BadValue);
    }
    Ok(info)
}

/// `VIRTIO_GPU_CMD_GET_CAPSET` (`struct virtio_gpu_get_capset`).
pub const GET_CAPSET_SIZE: usize = <GetCapset as Msg>::SIZE;

/// Encodes `GET_CAPSET` for capset `id` at `version`.
pub fn encode_get_capset(id: u32, version: u32) -> [u8; GET_CAPSET_SIZE] {
    GetCapset {
        capset_id: id,
        capset_version: version,
    }
    .encode(&CtrlHdr::default())
}

/// Size of the response buffer for a capset of `max_size` bytes.
pub const fn resp_capset_size(max_size: u32) -> usize {
    HDR_SIZE.saturating_add(max_size as usize)
}

/// Returns the capset payload of a `RESP_OK_CAPSET` of `max_size` bytes.
pub fn decode_capset(resp: &[u8], max_size: u32) -> Result<&[u8], RespError> {
    let len = resp_capset_size(max_size);
    check_resp(resp, cmd::RESP_OK_CAPSET, len)?;
    resp.get(HDR_SIZE..len).ok_or(RespError::Truncated)
}

wire_msg! {
    /// Creates a 2D resource (no virgl).
    pub struct ResourceCreate2d = RESOURCE_CREATE_2D;
    as virtio_gpu_resource_create_2d {
        /// Resource id chosen by the driver (non-zero).
        pub resource_id: u32,
        /// One of [`formats`].
        pub format: u32,
        /// Width in pixels.
        pub width: u32,
        /// Height in pixels.
        pub height: u32,
    }
}

wire_msg! {
    /// Creates a virgl resource (Gallium `pipe_resource` parameters).
    pub struct ResourceCreate3d = RESOURCE_CREATE_3D;
    as virtio_gpu_resource_create_3d {
        /// Resource id chosen by the driver (non-zero).
        pub resource_id: u32,
        /// `pipe_texture_target`.
        pub target: u32,
        /// `pipe_format` / virgl format.
        pub format: u32,
        /// `PIPE_BIND_*` flags.
        pub bind: u32,
        /// Width.
        pub width: u32,
        /// Height.
        pub height: u32,
        /// Depth.
        pub depth: u32,
        /// Array layers.
        pub array_size: u32,
        /// Last mip level.
        pub last_level: u32,
        /// Sample count.
        pub nr_samples: u32,
        /// `VIRTIO_GPU_RESOURCE_FLAG_*`.
        pub flags: u32,
    }
}

wire_msg! {
    /// Destroys a resource.
    pub struct ResourceUnref = RESOURCE_UNREF;
    as virtio_gpu_resource_unref {
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// Gives a resource guest memory: followed by `nr_entries` [`MemEntry`]s
    /// (see [`WithEntries`], [`attach_backing_size`]).
    pub struct ResourceAttachBacking = RESOURCE_ATTACH_BACKING;
    as virtio_gpu_resource_attach_backing {
        /// Resource id.
        pub resource_id: u32,
        /// Number of entries that follow.
        pub nr_entries: u32,
    }
}

wire_msg! {
    /// Takes the guest memory away from a resource.
    pub struct ResourceDetachBacking = RESOURCE_DETACH_BACKING;
    as virtio_gpu_resource_detach_backing {
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// Copies a rectangle of the guest backing into a 2D resource.
    pub struct TransferToHost2d = TRANSFER_TO_HOST_2D;
    as virtio_gpu_transfer_to_host_2d {
        /// Rectangle of the resource.
        pub r: Rect,
        /// Byte offset of the rectangle in the backing.
        pub offset: u64,
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// Copies a box of the guest backing into a 3D resource.
    pub struct TransferToHost3d = TRANSFER_TO_HOST_3D;
    /// Copies a box of a 3D resource into its guest backing.
    pub struct TransferFromHost3d = TRANSFER_FROM_HOST_3D;
    as virtio_gpu_transfer_host_3d {
        /// Box of the resource (C: `box`).
        pub box_: Box3d,
        /// Byte offset of the box in the backing.
        pub offset: u64,
        /// Resource id.
        pub resource_id: u32,
        /// Mip level.
        pub level: u32,
        /// Bytes per row in the backing (0: packed).
        pub stride: u32,
        /// Bytes per layer in the backing (0: packed).
        pub layer_stride: u32,
    }
}

wire_msg! {
    /// Creates the 3D context named by the header's `ctx_id`; build with [`CtxCreate::new`].
    pub struct CtxCreate = CTX_CREATE;
    as virtio_gpu_ctx_create {
        /// Length of the name in `debug_name`.
        pub nlen: u32,
        /// Capset id in the low 8 bits ([`CONTEXT_INIT_CAPSET_ID_MASK`]), 0: virgl.
        pub context_init: u32,
        /// Name shown in host logs.
        pub debug_name: [u8; 64],
    }
}

impl CtxCreate {
    /// Longest name sent: one byte less than the array, so the name is always followed by
    /// a NUL as with the C driver's `strscpy` (hosts log it as a C string).
    pub const MAX_NAME_LEN: usize = 63;

    /// A context of capset `capset_id` (0: the device's default, virgl) named `name`, cut
    /// at its first NUL and at [`CtxCreate::MAX_NAME_LEN`] bytes.
    pub fn new(capset_id: u8, name: &[u8]) -> Self {
        let mut debug_name = [0u8; 64];
        let mut nlen = 0u32;
        let bytes = name
            .iter()
            .take(Self::MAX_NAME_LEN)
            .take_while(|&&c| c != 0);
        for ((d, &c), n) in debug_name.iter_mut().zip(bytes).zip(1u32..) {
            *d = c;
            nlen = n;
        }
        Self {
            nlen,
            context_init: u32::from(capset_id) & CONTEXT_INIT_CAPSET_ID_MASK,
            debug_name,
        }
    }
}

wire_msg! {
    /// Destroys the 3D context named by the header's `ctx_id`.
    pub struct CtxDestroy = CTX_DESTROY;
    as virtio_gpu_ctx_destroy {}
}

wire_msg! {
    /// Makes a resource usable by the 3D context named by the header's `ctx_id`.
    pub struct CtxAttachResource = CTX_ATTACH_RESOURCE;
    /// Ends what [`CtxAttachResource`] started.
    pub struct CtxDetachResource = CTX_DETACH_RESOURCE;
    as virtio_gpu_ctx_resource {
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// Submits a command stream of `size` bytes, which follows the message (the driver
    /// appends it; see [`submit_3d_size`]), to the context named by the header's `ctx_id`.
    pub struct Submit3d = SUBMIT_3D;
    as virtio_gpu_cmd_submit {
        /// Length of the command stream.
        pub size: u32,
    }
}

wire_msg! {
    /// Creates a blob resource; followed by `nr_entries` [`MemEntry`]s for guest-backed
    /// blobs (see [`WithEntries`], [`create_blob_size`]).
    pub struct ResourceCreateBlob = RESOURCE_CREATE_BLOB;
    as virtio_gpu_resource_create_blob {
        /// Resource id chosen by the driver (non-zero).
        pub resource_id: u32,
        /// `BLOB_MEM_*` (0 is invalid).
        pub blob_mem: u32,
        /// `BLOB_FLAG_*`.
        pub blob_flags: u32,
        /// Number of entries that follow.
        pub nr_entries: u32,
        /// Host object of the context, for `BLOB_MEM_HOST3D*`.
        pub blob_id: u64,
        /// Size in bytes.
        pub size: u64,
    }
}

wire_msg! {
    /// Maps a host blob at `offset` in the host-visible memory region; answered by
    /// `RESP_OK_MAP_INFO` (see [`decode_map_info`]).
    pub struct ResourceMapBlob = RESOURCE_MAP_BLOB;
    as virtio_gpu_resource_map_blob {
        /// Resource id.
        pub resource_id: u32,
        /// Offset in the host-visible region.
        pub offset: u64,
    }
}

wire_msg! {
    /// The answer to [`ResourceMapBlob`].
    pub struct RespMapInfo = RESP_OK_MAP_INFO;
    as virtio_gpu_resp_map_info {
        /// `VIRTIO_GPU_MAP_CACHE_*` in the low bits: how the guest must map the blob.
        pub map_info: u32,
    }
}

wire_msg! {
    /// Undoes [`ResourceMapBlob`].
    pub struct ResourceUnmapBlob = RESOURCE_UNMAP_BLOB;
    as virtio_gpu_resource_unmap_blob {
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// Asks the host for the UUID by which other virtio devices name a resource (a
    /// dma-buf exported cross-device); answered by `RESP_OK_RESOURCE_UUID` (see
    /// [`decode_resource_uuid`]).
    pub struct ResourceAssignUuid = RESOURCE_ASSIGN_UUID;
    as virtio_gpu_resource_assign_uuid {
        /// Resource id.
        pub resource_id: u32,
    }
}

wire_msg! {
    /// The answer to [`ResourceAssignUuid`].
    pub struct RespResourceUuid = RESP_OK_RESOURCE_UUID;
    as virtio_gpu_resp_resource_uuid {
        /// The resource's UUID, bytes in the order the host wrote them.
        pub uuid: [u8; 16],
    }
}

/// Encodes `RESOURCE_UNREF` of `resource_id`, outside any context and without a fence.
pub fn encode_resource_unref(resource_id: u32) -> [u8; <ResourceUnref as Msg>::SIZE] {
    ResourceUnref { resource_id }.encode(&CtrlHdr::default())
}

/// Encodes `RESOURCE_MAP_BLOB` of `resource_id` at `offset` of the host-visible region,
/// outside any context and without a fence.
pub fn encode_map_blob(resource_id: u32, offset: u64) -> [u8; <ResourceMapBlob as Msg>::SIZE] {
    ResourceMapBlob {
        resource_id,
        offset,
    }
    .encode(&CtrlHdr::default())
}

/// Encodes `RESOURCE_UNMAP_BLOB` of `resource_id`, outside any context and without a fence.
pub fn encode_unmap_blob(resource_id: u32) -> [u8; <ResourceUnmapBlob as Msg>::SIZE] {
    ResourceUnmapBlob { resource_id }.encode(&CtrlHdr::default())
}

/// Size of a `RESP_OK_MAP_INFO` response.
pub const RESP_MAP_INFO_SIZE: usize = <RespMapInfo as Msg>::SIZE;

/// The raw `map_info` of a `RESP_OK_MAP_INFO` answer (interpretation is the caller's).
pub fn decode_map_info(resp: &[u8]) -> Result<u32, RespError> {
    RespMapInfo::decode(resp).map(|r| r.map_info)
}

/// Encodes `RESOURCE_ASSIGN_UUID` of `resource_id`, outside any context and without a
/// fence.
pub fn encode_assign_uuid(resource_id: u32) -> [u8; <ResourceAssignUuid as Msg>::SIZE] {
    ResourceAssignUuid { resource_id }.encode(&CtrlHdr::default())
}

/// Size of a `RESP_OK_RESOURCE_UUID` response.
pub const RESP_RESOURCE_UUID_SIZE: usize = <RespResourceUuid as Msg>::SIZE;

/// The raw UUID of a `RESP_OK_RESOURCE_UUID` answer. Its value is not checked: the UUID
/// is only handed on to importers, which compare it with the ones their device knows.
pub fn decode_resource_uuid(resp: &[u8]) -> Result<[u8; 16], RespError> {
    RespResourceUuid::decode(resp).map(|r| r.uuid)
}

/// Messages followed by an array of [`MemEntry`]s, in one buffer the driver allocates.
pub trait WithEntries: Msg {
    /// Size of the message followed by `nr_entries` entries; `None` if `nr_entries` does
    /// not fit the `u32` field or the size overflows.
    fn size_with(nr_entries: usize) -> Option<usize> {
        u32::try_from(nr_entries).ok()?;
        nr_entries
            .checked_mul(MemEntry::SIZE)?
            .checked_add(Self::SIZE)
    }

    /// Writes entry number `i` into `out`, a buffer holding the message then the entries.
    fn encode_entry(out: &mut [u8], i: usize, entry: &MemEntry) -> Result<(), ShortBuffer> {
        let off = i
            .checked_mul(MemEntry::SIZE)
            .and_then(|o| o.checked_add(Self::SIZE))
            .ok_or(ShortBuffer)?;
        entry.write_le(tail_mut(out, off)?)
    }
}

impl WithEntries for ResourceAttachBacking {}
impl WithEntries for ResourceCreateBlob {}

/// Size of `RESOURCE_ATTACH_BACKING` with `nr_entries` entries ([`WithEntries::size_with`]).
pub fn attach_backing_size(nr_entries: usize) -> Option<usize> {
    ResourceAttachBacking::size_with(nr_entries)
}

/// Size of `RESOURCE_CREATE_BLOB` with `nr_entries` entries ([`WithEntries::size_with`]).
pub fn create_blob_size(nr_entries: usize) -> Option<usize> {
    ResourceCreateBlob::size_with(nr_entries)
}

/// Size of `SUBMIT_3D` followed by a command stream of `len` bytes; `None` if `len` does
/// not fit the `u32` field or the size overflows.
pub fn submit_3d_size(len: usize) -> Option<usize> {
    u32::try_from(len).ok()?;
    len.checked_add(<Submit3d as Msg>::SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at32(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }

    fn at64(b: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
    }

    /// A header every test encodes with, so its bytes are checked in every message.
    const HDR: CtrlHdr = CtrlHdr::ctx(0x0a0b0c0d).with_fence(0x1122334455667788, Some(3));

    /// Checks the header of an encoded message: type, context, fence, ring, zero padding.
    fn check_hdr(b: &[u8], type_: u32) {
        assert_eq!(at32(b, 0), type_);
        assert_eq!(at32(b, 4), FLAG_FENCE | FLAG_INFO_RING_IDX);
        assert_eq!(at64(b, 8), 0x1122334455667788);
        assert_eq!(at32(b, 16), 0x0a0b0c0d);
        assert_eq!(&b[20..24], &[3, 0, 0, 0]);
    }

    /// Encodes `m`, checks its size and header, its decoding round trip and that `SIZE` is
    /// all `encode_into` needs; returns the bytes.
    fn enc<M: Msg + Copy + PartialEq + core::fmt::Debug>(m: M, size: usize) -> Vec<u8> {
        assert_eq!(M::SIZE, size);
        let mut b = vec![0xa5u8; size + 8];
        m.encode_into(&HDR, &mut b).unwrap();
        assert!(b[size..].iter().all(|&x| x == 0xa5), "wrote past SIZE");
        b.truncate(size);
        check_hdr(&b, M::TYPE);
        assert_eq!(M::decode(&b), Ok(m));
        assert_eq!(M::decode(&b[..size - 1]), Err(RespError::Truncated));
        assert_eq!(
            m.encode_into(&HDR, &mut vec![0u8; size - 1]),
            Err(ShortBuffer)
        );
        b
    }

    #[test]
    fn header_layout_is_little_endian_and_24_bytes() {
        let mut b = [0xffu8; HDR_SIZE];
        CtrlHdr {
            type_: 0x0108,
            flags: FLAG_FENCE,
            fence_id: 0x1122334455667788,
            ctx_id: 7,
            ring_idx: 3,
        }
        .encode(&mut b);
        assert_eq!(
            b,
            [
                0x08, 0x01, 0, 0, 1, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 7, 0,
                0, 0, 3, 0, 0, 0
            ]
        );
        assert_eq!(HDR_SIZE, 24);
        assert_eq!(CtrlHdr::decode(&b).unwrap().fence_id, 0x1122334455667788);
        assert_eq!(CtrlHdr::decode(&b[..23]), None);
        let mut short = [0xffu8; 23];
        CtrlHdr::cmd(1).encode(&mut short);
        assert_eq!(short, [0xff; 23]);
    }

    #[test]
    fn header_helpers() {
        assert_eq!(
            CtrlHdr::ctx(5),
            CtrlHdr {
                ctx_id: 5,
                ..CtrlHdr::default()
            }
        );
        let f = CtrlHdr::ctx(5).with_fence(9, None);
        assert_eq!((f.flags, f.fence_id, f.ring_idx), (FLAG_FENCE, 9, 0));
        let r = CtrlHdr::ctx(5).with_fence(9, Some(2));
        assert_eq!(r.flags, FLAG_FENCE | FLAG_INFO_RING_IDX);
        assert_eq!((r.ring_idx, r.ctx_id), (2, 5));
        // The header's type is always the message's.
        let b = ResourceUnref { resource_id: 1 }.encode(&CtrlHdr::cmd(cmd::CTX_CREATE));
        assert_eq!(at32(&b, 0), cmd::RESOURCE_UNREF);
    }

    #[test]
    fn get_capset_info_encoding() {
        let b = encode_get_capset_info(2);
        assert_eq!(&b[0..4], &[0x08, 0x01, 0, 0]);
        assert_eq!(&b[4..24], &[0; 20]);
        assert_eq!(&b[24..28], &[2, 0, 0, 0]);
        assert_eq!(&b[28..32], &[0, 0, 0, 0]);
        enc(GetCapsetInfo { capset_index: 2 }, 32);
    }

    fn capset_info_resp(type_: u32, id: u32, ver: u32, size: u32) -> [u8; RESP_CAPSET_INFO_SIZE] {
        let mut r = RespCapsetInfo {
            capset_id: id,
            capset_max_version: ver,
            capset_max_size: size,
        }
        .encode(&CtrlHdr::default());
        r[0..4].copy_from_slice(&type_.to_le_bytes());
        r
    }

    #[test]
    fn capset_info_ok() {
        let r = capset_info_resp(cmd::RESP_OK_CAPSET_INFO, 4, 0, 160);
        assert_eq!(RESP_CAPSET_INFO_SIZE, 40);
        assert_eq!((at32(&r, 24), at32(&r, 28), at32(&r, 32)), (4, 0, 160));
        assert_eq!(
            decode_capset_info(&r),
            Ok(CapsetInfo {
                id: 4,
                max_version: 0,
                max_size: 160
            })
        );
    }

    #[test]
    fn capset_info_rejects_bad_host_answers() {
        let e = |t, id, v, s| decode_capset_info(&capset_info_resp(t, id, v, s)).unwrap_err();
        assert_eq!(
            e(cmd::RESP_ERR_INVALID_PARAMETER, 1, 1, 8),
            RespError::Device(0x1205)
        );
        assert_eq!(
            e(cmd::RESP_OK_NODATA, 1, 1, 8),
            RespError::UnexpectedType(0x1100)
        );
        assert_eq!(e(cmd::RESP_OK_CAPSET_INFO, 0, 1, 8), RespError::BadValue);
        assert_eq!(e(cmd::RESP_OK_CAPSET_INFO, 64, 1, 8), RespError::BadValue);
        assert_eq!(e(cmd::RESP_OK_CAPSET_INFO, 1, 1, 0), RespError::BadValue);
        assert_eq!(
            e(cmd::RESP_OK_CAPSET_INFO, 1, 1, MAX_CAPSET_SIZE + 1),
            RespError::BadValue
        );
        let r = capset_info_resp(cmd::RESP_OK_CAPSET_INFO, 1, 1, 8);
        assert_eq!(decode_capset_info(&r[..30]), Err(RespError::Truncated));
        assert_eq!(decode_capset_info(&r[..10]), Err(RespError::Truncated));
    }

    #[test]
    fn capset_payload() {
        let mut r = [0u8; HDR_SIZE + 8];
        CtrlHdr::cmd(cmd::RESP_OK_CAPSET).encode(&mut r);
        r[24..32].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(decode_capset(&r, 8).unwrap(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(decode_capset(&r, 9), Err(RespError::Truncated));
        assert_eq!(decode_capset(&r, u32::MAX), Err(RespError::Truncated));
        assert_eq!(encode_get_capset(2, 1)[24..32], [2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(GET_CAPSET_SIZE, 32);
    }

    #[test]
    fn errno_mapping() {
        assert_eq!(
            resp_errno(RespError::Device(cmd::RESP_ERR_OUT_OF_MEMORY)),
            12
        );
        assert_eq!(
            resp_errno(RespError::Device(cmd::RESP_ERR_INVALID_RESOURCE_ID)),
            22
        );
        assert_eq!(resp_errno(RespError::Device(cmd::RESP_ERR_UNSPEC)), 5);
        assert_eq!(resp_errno(RespError::Device(0x12ff)), 5);
        assert_eq!(resp_errno(RespError::Truncated), 71);
        assert_eq!(resp_errno(RespError::UnexpectedType(0x1101)), 71);
    }

    #[test]
    fn resource_create_2d() {
        let b = enc(
            ResourceCreate2d {
                resource_id: 0x01020304,
                format: formats::R8G8B8X8_UNORM,
                width: 0x0500,
                height: 0x0600,
            },
            40,
        );
        assert_eq!(&b[24..28], &[4, 3, 2, 1]);
        assert_eq!(
            (at32(&b, 28), at32(&b, 32), at32(&b, 36)),
            (134, 0x500, 0x600)
        );
    }

    #[test]
    fn resource_create_3d() {
        let b = enc(
            ResourceCreate3d {
                resource_id: 1,
                target: 2,
                format: 3,
                bind: 4,
                width: 5,
                height: 6,
                depth: 7,
                array_size: 8,
                last_level: 9,
                nr_samples: 10,
                flags: 11,
            },
            72,
        );
        for i in 0..11 {
            assert_eq!(at32(&b, 24 + 4 * i), i as u32 + 1);
        }
        assert_eq!(at32(&b, 68), 0, "padding");
    }

    #[test]
    fn resource_id_only_messages() {
        let check = |b: Vec<u8>| {
            assert_eq!(at32(&b, 24), 0xdeadbeef);
            assert_eq!(at32(&b, 28), 0, "padding");
        };
        check(enc(
            ResourceUnref {
                resource_id: 0xdeadbeef,
            },
            32,
        ));
        check(enc(
            ResourceDetachBacking {
                resource_id: 0xdeadbeef,
            },
            32,
        ));
        check(enc(
            ResourceUnmapBlob {
                resource_id: 0xdeadbeef,
            },
            32,
        ));
        check(enc(
            CtxAttachResource {
                resource_id: 0xdeadbeef,
            },
            32,
        ));
        check(enc(
            CtxDetachResource {
                resource_id: 0xdeadbeef,
            },
            32,
        ));
        assert_eq!(CtxAttachResource::TYPE, 0x0202);
        assert_eq!(CtxDetachResource::TYPE, 0x0203);
        assert_eq!(ResourceUnmapBlob::TYPE, 0x0209);
    }

    #[test]
    fn ctx_destroy_is_a_bare_header() {
        let b = CtxDestroy {}.encode(&HDR);
        assert_eq!(b.len(), 24);
        check_hdr(&b, cmd::CTX_DESTROY);
        enc(CtxDestroy {}, 24);
    }

    #[test]
    fn attach_backing_with_entries() {
        let n = 2;
        let size = attach_backing_size(n).unwrap();
        assert_eq!(size, 32 + 2 * 16);
        let mut buf = vec![0xa5u8; size];
        ResourceAttachBacking {
            resource_id: 7,
            nr_entries: 2,
        }
        .encode_into(&HDR, &mut buf)
        .unwrap();
        let e = |i| MemEntry {
            addr: 0x1000_0000_0000_0000 + i,
            length: 0x1000 * (i as u32 + 1),
        };
        for i in 0..n {
            ResourceAttachBacking::encode_entry(&mut buf, i, &e(i as u64)).unwrap();
        }
        check_hdr(&buf, cmd::RESOURCE_ATTACH_BACKING);
        assert_eq!((at32(&buf, 24), at32(&buf, 28)), (7, 2));
        assert_eq!(at64(&buf, 32), 0x1000_0000_0000_0000);
        assert_eq!((at32(&buf, 40), at32(&buf, 44)), (0x1000, 0));
        assert_eq!(at64(&buf, 48), 0x1000_0000_0000_0001);
        assert_eq!((at32(&buf, 56), at32(&buf, 60)), (0x2000, 0));
        assert_eq!(
            ResourceAttachBacking::encode_entry(&mut buf, 2, &e(2)),
            Err(ShortBuffer)
        );
        assert_eq!(
            ResourceAttachBacking::encode_entry(&mut buf, usize::MAX, &e(2)),
            Err(ShortBuffer)
        );
        assert_eq!(MemEntry::read_le(&buf[48..]), Some(e(1)));
        assert_eq!(MemEntry::SIZE, 16);
    }

    #[test]
    fn size_functions_reject_overflow() {
        assert_eq!(attach_backing_size(0), Some(32));
        assert_eq!(create_blob_size(1), Some(56 + 16));
        assert_eq!(submit_3d_size(100), Some(132));
        for f in [attach_backing_size, create_blob_size, submit_3d_size] {
            assert_eq!(f(usize::MAX), None);
            assert_eq!(f(u32::MAX as usize + 1), None);
        }
        assert_eq!(
            attach_backing_size(u32::MAX as usize),
            Some(32 + 16 * (u32::MAX as usize))
        );
    }

    #[test]
    fn transfer_to_host_2d() {
        let b = enc(
            TransferToHost2d {
                r: Rect {
                    x: 1,
                    y: 2,
                    width: 3,
                    height: 4,
                },
                offset: 0x0102030405060708,
                resource_id: 9,
            },
            56,
        );
        assert_eq!(
            (at32(&b, 24), at32(&b, 28), at32(&b, 32), at32(&b, 36)),
            (1, 2, 3, 4)
        );
        assert_eq!(&b[40..48], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!((at32(&b, 48), at32(&b, 52)), (9, 0));
    }

    #[test]
    fn transfer_host_3d() {
        let t = TransferToHost3d {
            box_: Box3d {
                x: 1,
                y: 2,
                z: 3,
                w: 4,
                h: 5,
                d: 6,
            },
            offset: 0x0102030405060708,
            resource_id: 7,
            level: 8,
            stride: 9,
            layer_stride: 10,
        };
        let to = enc(t, 72);
        for i in 0..6 {
            assert_eq!(at32(&to, 24 + 4 * i), i as u32 + 1);
        }
        assert_eq!(at64(&to, 48), 0x0102030405060708);
        for i in 0..4 {
            assert_eq!(at32(&to, 56 + 4 * i), i as u32 + 7);
        }
        let from = enc(
            TransferFromHost3d {
                box_: t.box_,
                offset: t.offset,
                resource_id: t.resource_id,
                level: t.level,
                stride: t.stride,
                layer_stride: t.layer_stride,
            },
            72,
        );
        assert_eq!(at32(&from, 0), cmd::TRANSFER_FROM_HOST_3D);
        assert_eq!(to[4..], from[4..]);
    }

    #[test]
    fn ctx_create() {
        let b = enc(CtxCreate::new(4, b"glxgears"), 96);
        assert_eq!((at32(&b, 24), at32(&b, 28)), (8, 4));
        assert_eq!(&b[32..40], b"glxgears");
        assert!(b[40..].iter().all(|&x| x == 0));

        let long = [b'x'; 100];
        let c = CtxCreate::new(2, &long);
        assert_eq!(c.nlen, 63);
        assert_eq!(&c.debug_name[..63], &long[..63]);
        assert_eq!(c.debug_name[63], 0);
        let b = enc(c, 96);
        assert_eq!(b[32 + 63], 0);

        let c = CtxCreate::new(0, b"ab\0cd");
        assert_eq!(c.nlen, 2);
        assert_eq!(&c.debug_name[..4], b"ab\0\0");
        assert_eq!(CtxCreate::new(255, b"").context_init, 0xff);
    }

    #[test]
    fn fence_id_offset() {
        let mut b = [0u8; 24];
        CtrlHdr::cmd(1)
            .with_fence(0x0102_0304_0506_0708, None)
            .encode(&mut b);
        assert_eq!(
            b[HDR_FENCE_ID_OFFSET..HDR_FENCE_ID_OFFSET + 8],
            0x0102_0304_0506_0708u64.to_le_bytes()
        );
    }

    #[test]
    fn submit_3d_header() {
        let b = enc(Submit3d { size: 0x1234 }, 32);
        assert_eq!((at32(&b, 24), at32(&b, 28)), (0x1234, 0));
    }

    #[test]
    fn resource_create_blob() {
        let b = enc(
            ResourceCreateBlob {
                resource_id: 1,
                blob_mem: BLOB_MEM_HOST3D,
                blob_flags: BLOB_FLAG_USE_MAPPABLE | BLOB_FLAG_USE_SHAREABLE,
                nr_entries: 0,
                blob_id: 0x0102030405060708,
                size: 0x1_0000_0000,
            },
            56,
        );
        assert_eq!(
            (at32(&b, 24), at32(&b, 28), at32(&b, 32), at32(&b, 36)),
            (1, 2, 3, 0)
        );
        assert_eq!(at64(&b, 40), 0x0102030405060708);
        assert_eq!(at64(&b, 48), 0x1_0000_0000);

        let size = create_blob_size(1).unwrap();
        let mut buf = vec![0u8; size];
        ResourceCreateBlob::encode_entry(
            &mut buf,
            0,
            &MemEntry {
                addr: 0xabcd000,
                length: 4096,
            },
        )
        .unwrap();
        assert_eq!((at64(&buf, 56), at32(&buf, 64)), (0xabcd000, 4096));
    }

    #[test]
    fn resource_map_blob() {
        let b = enc(
            ResourceMapBlob {
                resource_id: 5,
                offset: 0x0102030405060708,
            },
            40,
        );
        assert_eq!((at32(&b, 24), at32(&b, 28)), (5, 0));
        assert_eq!(at64(&b, 32), 0x0102030405060708);
    }

    #[test]
    fn global_shorthands() {
        let b = encode_resource_unref(9);
        assert_eq!(
            b,
            ResourceUnref { resource_id: 9 }.encode(&CtrlHdr::default())
        );
        assert_eq!((at32(&b, 0), at32(&b, 16), at32(&b, 24)), (0x0102, 0, 9));
        let b = encode_map_blob(3, 1 << 40);
        assert_eq!(
            (at32(&b, 0), at32(&b, 24), at64(&b, 32)),
            (0x0208, 3, 1 << 40)
        );
        let b = encode_unmap_blob(3);
        assert_eq!((b.len(), at32(&b, 0), at32(&b, 24)), (32, 0x0209, 3));
    }

    #[test]
    fn map_info_answers() {
        let r = RespMapInfo { map_info: 3 }.encode(&CtrlHdr::default());
        assert_eq!(r.len(), 32);
        assert_eq!((at32(&r, 24), at32(&r, 28)), (3, 0));
        assert_eq!(decode_map_info(&r), Ok(3));
        assert_eq!(decode_map_info(&r[..31]), Err(RespError::Truncated));
        assert_eq!(decode_map_info(&r[..10]), Err(RespError::Truncated));
        let mut e = r;
        CtrlHdr::cmd(cmd::RESP_ERR_INVALID_RESOURCE_ID).encode(&mut e);
        assert_eq!(decode_map_info(&e), Err(RespError::Device(0x1203)));
        CtrlHdr::cmd(cmd::RESP_OK_NODATA).encode(&mut e);
        assert_eq!(decode_map_info(&e), Err(RespError::UnexpectedType(0x1100)));
        assert_eq!(RESP_MAP_INFO_SIZE, 32);
    }

    #[test]
    fn assign_uuid_encoding() {
        let b = encode_assign_uuid(0x01020304);
        assert_eq!(
            b,
            [
                0x0b, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3,
                2, 1, 0, 0, 0, 0
            ]
        );
        assert_eq!(ResourceAssignUuid::TYPE, 0x010b);
        assert_eq!(ResourceAssignUuid::SIZE, 32);
        let b = enc(
            ResourceAssignUuid {
                resource_id: 0xdeadbeef,
            },
            32,
        );
        assert_eq!((at32(&b, 24), at32(&b, 28)), (0xdeadbeef, 0));
    }

    #[test]
    fn resource_uuid_answers() {
        let uuid: [u8; 16] = core::array::from_fn(|i| 0xf0 - i as u8);
        let r = RespResourceUuid { uuid }.encode(&CtrlHdr::default());
        assert_eq!(RESP_RESOURCE_UUID_SIZE, 40);
        assert_eq!(r.len(), 40);
        assert_eq!(at32(&r, 0), 0x1105);
        assert_eq!(&r[4..24], &[0; 20]);
        assert_eq!(&r[24..40], &uuid);
        assert_eq!(decode_resource_uuid(&r), Ok(uuid));
        // A longer buffer is fine, a shorter one is not.
        let mut long = [0u8; 48];
        long[..40].copy_from_slice(&r);
        assert_eq!(decode_resource_uuid(&long), Ok(uuid));
        assert_eq!(decode_resource_uuid(&r[..39]), Err(RespError::Truncated));
        assert_eq!(decode_resource_uuid(&r[..24]), Err(RespError::Truncated));
        assert_eq!(decode_resource_uuid(&r[..23]), Err(RespError::Truncated));
        assert_eq!(decode_resource_uuid(&[]), Err(RespError::Truncated));
        // Error answers are a bare header: reported as the device's error, not as short.
        let mut e = [0u8; RESP_NODATA_SIZE];
        CtrlHdr::cmd(cmd::RESP_ERR_INVALID_RESOURCE_ID).encode(&mut e);
        assert_eq!(decode_resource_uuid(&e), Err(RespError::Device(0x1203)));
        assert_eq!(resp_errno(decode_resource_uuid(&e).unwrap_err()), 22);
        CtrlHdr::cmd(cmd::RESP_ERR_UNSPEC).encode(&mut e);
        assert_eq!(decode_resource_uuid(&e), Err(RespError::Device(0x1200)));
        // Success of another type, even one long enough, is a protocol error.
        let mut w = r;
        CtrlHdr::cmd(cmd::RESP_OK_NODATA).encode(&mut w);
        assert_eq!(
            decode_resource_uuid(&w),
            Err(RespError::UnexpectedType(0x1100))
        );
        CtrlHdr::cmd(cmd::RESP_OK_MAP_INFO).encode(&mut w);
        assert_eq!(
            decode_resource_uuid(&w),
            Err(RespError::UnexpectedType(0x1106))
        );
        assert_eq!(resp_errno(decode_resource_uuid(&w).unwrap_err()), 71);
        enc(RespResourceUuid { uuid }, 40);
    }

    #[test]
    fn nodata_answers() {
        let mut r = [0u8; RESP_NODATA_SIZE];
        CtrlHdr::cmd(cmd::RESP_OK_NODATA).encode(&mut r);
        assert_eq!(decode_nodata(&r), Ok(()));
        assert_eq!(decode_nodata(&r[..23]), Err(RespError::Truncated));
        assert_eq!(decode_nodata(&[]), Err(RespError::Truncated));
        CtrlHdr::cmd(cmd::RESP_ERR_OUT_OF_MEMORY).encode(&mut r);
        assert_eq!(decode_nodata(&r), Err(RespError::Device(0x1201)));
        CtrlHdr::cmd(cmd::RESP_OK_MAP_INFO).encode(&mut r);
        assert_eq!(decode_nodata(&r), Err(RespError::UnexpectedType(0x1106)));
    }

    #[test]
    fn formats() {
        use super::formats::*;
        for f in [1, 2, 3, 4, 67, 68, 121, 134] {
            assert!(is_2d_format(f));
        }
        for f in [0, 5, 66, 69, 120, 122, 133, 135, u32::MAX] {
            assert!(!is_2d_format(f));
        }
        assert_eq!(B8G8R8A8_UNORM, 1);
        assert_eq!(R8G8B8X8_UNORM, 134);
    }

    #[test]
    fn decoders_never_panic_on_short_or_garbage_input() {
        let junk = [0x11u8; 100];
        for n in 0..junk.len() {
            let b = &junk[..n];
            let _ = decode_nodata(b);
            let _ = decode_map_info(b);
            let _ = decode_resource_uuid(b);
            let _ = decode_capset_info(b);
            let _ = decode_capset(b, 8);
            let _ = ResourceCreateBlob::decode(b);
            let _ = CtxCreate::decode(b);
        }
    }
}
