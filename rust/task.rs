// SPDX-License-Identifier: GPL-2.0

//! What the 7.2 kernel crate's `Task` does not offer yet.

use super::bindings;

/// Length of a task name including its NUL (`TASK_COMM_LEN`).
pub const COMM_LEN: usize = 16;

/// The current task's name (`comm`), without the trailing NULs.
pub fn current_comm() -> ([u8; COMM_LEN], usize) {
    let mut buf = [0u8; COMM_LEN];
    // SAFETY: `buf` has the `TASK_COMM_LEN` bytes the helper writes.
    unsafe { bindings::vgpu_helper_current_comm(buf.as_mut_ptr().cast()) };
    let len = buf.iter().position(|&c| c == 0).unwrap_or(COMM_LEN);
    (buf, len)
}
