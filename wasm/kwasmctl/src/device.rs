// SPDX-License-Identifier: GPL-2.0
//! /dev/kwasm and its ioctls.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;

use crate::error::Error;
use crate::uapi;

pub struct Device {
    file: File,
}

/// The user pointer and length of `bytes`, as the ioctls take them.
fn user_buf(bytes: &[u8]) -> io::Result<(u64, u32)> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    Ok((bytes.as_ptr() as u64, len))
}

impl Device {
    pub fn open() -> Result<Self, Error> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(uapi::DEVICE)
            .map(|file| Self { file })
            .map_err(|err| Error::module_io(format!("open {}", uapi::DEVICE), uapi::DEVICE, err))
    }

    /// Loads `prog` with the options in `req`; on failure `req.err` holds
    /// the kernel's reason.
    pub fn load(&self, prog: &[u8], req: &mut uapi::Load) -> io::Result<()> {
        (req.prog, req.prog_len) = user_buf(prog)?;
        // SAFETY: KWASM_IOC_LOAD reads and writes a struct kwasm_load, and
        // reads prog_len bytes at prog, borrowed for the call.
        unsafe { self.ioctl(uapi::IOC_LOAD, req as *mut uapi::Load as usize) }
    }

    pub fn unload(&self) -> io::Result<()> {
        // SAFETY: KWASM_IOC_UNLOAD takes no argument.
        unsafe { self.ioctl(uapi::IOC_UNLOAD, 0) }
    }

    /// Runs `prog`, or the loaded program when `None`, on `pkt` with the
    /// options in `req`, which receives the results or, on failure, the
    /// kernel's reason in `req.err`.
    pub fn test_run(
        &self,
        prog: Option<&[u8]>,
        pkt: &[u8],
        req: &mut uapi::TestRun,
    ) -> io::Result<()> {
        (req.prog, req.prog_len) = match prog {
            Some(prog) => user_buf(prog)?,
            None => (0, 0),
        };
        (req.pkt, req.pkt_len) = user_buf(pkt)?;
        // SAFETY: KWASM_IOC_TEST_RUN reads and writes a struct
        // kwasm_test_run, and reads the program and packet it points to,
        // borrowed for the call.
        unsafe { self.ioctl(uapi::IOC_TEST_RUN, req as *mut uapi::TestRun as usize) }
    }

    /// # Safety
    ///
    /// `arg` must be what `request` expects: 0, or the address of its
    /// structure, whose pointers are valid for the call.
    unsafe fn ioctl(&self, request: u32, arg: usize) -> io::Result<()> {
        // SAFETY: guaranteed by the caller.
        if unsafe { libc::ioctl(self.file.as_raw_fd(), request as libc::Ioctl, arg) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
