// SPDX-License-Identifier: GPL-2.0

//! Control-queue messages (`include/uapi/linux/virtio_gpu.h`), encoded and decoded by hand.
//!
//! Commands are written into caller-provided byte arrays; responses are parsed from the bytes
//! the device wrote, with the response type and length checked before any field is trusted.

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
pub const HDR_SIZE: usize = 24;
/// `VIRTIO_GPU_FLAG_FENCE`.
pub const FLAG_FENCE: u32 = 1 << 0;
/// `VIRTIO_GPU_FLAG_INFO_RING_IDX`.
pub const FLAG_INFO_RING_IDX: u32 = 1 << 1;
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

fn le32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le64(b: &[u8], off: usize) -> Option<u64> {
    let lo = u64::from(le32(b, off)?);
    let hi = u64::from(le32(b, off + 4)?);
    Some(lo | (hi << 32))
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// `struct virtio_gpu_ctrl_hdr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtrlHdr {
    pub type_: u32,
    pub flags: u32,
    pub fence_id: u64,
    pub ctx_id: u32,
    pub ring_idx: u8,
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

    /// Writes the header into the first [`HDR_SIZE`] bytes of `b`.
    pub fn encode(&self, b: &mut [u8]) {
        put32(b, 0, self.type_);
        put32(b, 4, self.flags);
        put64(b, 8, self.fence_id);
        put32(b, 16, self.ctx_id);
        b[20] = self.ring_idx;
        b[21..24].fill(0);
    }

    /// Reads a header; `None` if `b` is shorter than a header.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < HDR_SIZE {
            return None;
        }
        Some(Self {
            type_: le32(b, 0)?,
            flags: le32(b, 4)?,
            fence_id: le64(b, 8)?,
            ctx_id: le32(b, 16)?,
            ring_idx: *b.get(20)?,
        })
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

/// `VIRTIO_GPU_CMD_GET_CAPSET_INFO` (`struct virtio_gpu_get_capset_info`).
pub const GET_CAPSET_INFO_SIZE: usize = HDR_SIZE + 8;
/// `struct virtio_gpu_resp_capset_info`.
pub const RESP_CAPSET_INFO_SIZE: usize = HDR_SIZE + 16;

pub fn encode_get_capset_info(index: u32) -> [u8; GET_CAPSET_INFO_SIZE] {
    let mut b = [0u8; GET_CAPSET_INFO_SIZE];
    CtrlHdr::cmd(cmd::GET_CAPSET_INFO).encode(&mut b);
    put32(&mut b, HDR_SIZE, index);
    b
}

/// One capability set as reported by `GET_CAPSET_INFO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapsetInfo {
    pub id: u32,
    pub max_version: u32,
    pub max_size: u32,
}

/// Largest capset the driver accepts from the host: bounds the allocation a malicious or
/// buggy host can make the guest perform (virgl2 caps are ~1.6 KiB, venus < 1 KiB).
pub const MAX_CAPSET_SIZE: u32 = 64 * 1024;

pub fn decode_capset_info(resp: &[u8]) -> Result<CapsetInfo, RespError> {
    check_resp(resp, cmd::RESP_OK_CAPSET_INFO, RESP_CAPSET_INFO_SIZE)?;
    let info = CapsetInfo {
        id: le32(resp, HDR_SIZE).ok_or(RespError::Truncated)?,
        max_version: le32(resp, HDR_SIZE + 4).ok_or(RespError::Truncated)?,
        max_size: le32(resp, HDR_SIZE + 8).ok_or(RespError::Truncated)?,
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
pub const GET_CAPSET_SIZE: usize = HDR_SIZE + 8;

pub fn encode_get_capset(id: u32, version: u32) -> [u8; GET_CAPSET_SIZE] {
    let mut b = [0u8; GET_CAPSET_SIZE];
    CtrlHdr::cmd(cmd::GET_CAPSET).encode(&mut b);
    put32(&mut b, HDR_SIZE, id);
    put32(&mut b, HDR_SIZE + 4, version);
    b
}

/// Size of the response buffer for a capset of `max_size` bytes.
pub const fn resp_capset_size(max_size: u32) -> usize {
    HDR_SIZE + max_size as usize
}

/// Returns the capset payload of a `RESP_OK_CAPSET` of `max_size` bytes.
pub fn decode_capset(resp: &[u8], max_size: u32) -> Result<&[u8], RespError> {
    let len = resp_capset_size(max_size);
    check_resp(resp, cmd::RESP_OK_CAPSET, len)?;
    Ok(&resp[HDR_SIZE..len])
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(CtrlHdr::decode(&b).unwrap().fence_id, 0x1122334455667788);
        assert_eq!(CtrlHdr::decode(&b[..23]), None);
    }

    #[test]
    fn get_capset_info_encoding() {
        let b = encode_get_capset_info(2);
        assert_eq!(&b[0..4], &[0x08, 0x01, 0, 0]);
        assert_eq!(&b[24..28], &[2, 0, 0, 0]);
        assert_eq!(&b[28..32], &[0, 0, 0, 0]);
    }

    fn capset_info_resp(type_: u32, id: u32, ver: u32, size: u32) -> [u8; RESP_CAPSET_INFO_SIZE] {
        let mut r = [0u8; RESP_CAPSET_INFO_SIZE];
        CtrlHdr::cmd(type_).encode(&mut r);
        put32(&mut r, 24, id);
        put32(&mut r, 28, ver);
        put32(&mut r, 32, size);
        r
    }

    #[test]
    fn capset_info_ok() {
        let r = capset_info_resp(cmd::RESP_OK_CAPSET_INFO, 4, 0, 160);
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
        assert_eq!(encode_get_capset(2, 1)[24..32], [2, 0, 0, 0, 1, 0, 0, 0]);
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
}
