//! The system calls a sandboxed job may not make, as seccomp programs bubblewrap loads before it
//! starts the job: whatever changes mounts, namespaces, other processes' memory, the kernel's
//! keyrings, modules or the machine itself fails with `EPERM`. `clone3` fails with `ENOSYS`
//! instead, so that the C library falls back to `clone`, whose flags a program can check (the
//! flags of `clone3` sit in memory, out of seccomp's reach).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};

/// System calls refused whatever their arguments.
const REFUSED: &[libc::c_long] = &[
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    libc::SYS_pidfd_getfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_syslog,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_vhangup,
    libc::SYS_personality,
];

/// The namespace flags `clone` may not be given.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// The programs, each as the bytes bubblewrap reads from a descriptor: the `EPERM` list,
/// `clone3` → `ENOSYS`, and on x86_64 a refusal of every x32 system call (numbers with bit 30
/// set, which would otherwise pass the list's rules under other numbers).
pub(crate) fn programs() -> Result<Vec<Vec<u8>>, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| format!("no seccomp filter for the {} architecture", std::env::consts::ARCH))?;
    let mut refused: BTreeMap<i64, Vec<SeccompRule>> = REFUSED.iter().map(|call| (*call, Vec::new())).collect();
    let namespace_rules = NAMESPACE_FLAGS
        .iter()
        .map(|flag| {
            let flag = u64::try_from(*flag).unwrap_or_default();
            let condition = SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag)?;
            SeccompRule::new(vec![condition])
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    refused.insert(libc::SYS_clone, namespace_rules);
    let eperm = compile(refused, libc::EPERM, arch)?;
    let enosys = compile(BTreeMap::from([(libc::SYS_clone3, Vec::new())]), libc::ENOSYS, arch)?;
    let mut programs = vec![eperm, enosys];
    if arch == TargetArch::x86_64 {
        programs.push(no_x32());
    }
    Ok(programs)
}

/// A program refusing (`EPERM`) every system call of the x32 ABI on x86_64: seccompiler has no
/// rule for a bit of the call number, so these five instructions are written out.
fn no_x32() -> Vec<u8> {
    const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JUMP_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JUMP_ANY_BIT: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    // seccomp_data: the call number at offset 0, the architecture at offset 4.
    let instructions: [(u16, u8, u8, u32); 6] = [
        (LOAD_WORD, 0, 0, 4),
        (JUMP_EQUAL, 0, 3, AUDIT_ARCH_X86_64),
        (LOAD_WORD, 0, 0, 0),
        (JUMP_ANY_BIT, 0, 1, X32_SYSCALL_BIT),
        (RETURN, 0, 0, RET_ERRNO | libc::EPERM as u32),
        (RETURN, 0, 0, RET_ALLOW),
    ];
    let mut bytes = Vec::with_capacity(instructions.len() * 8);
    for (code, jump_true, jump_false, k) in instructions {
        bytes.extend_from_slice(&code.to_ne_bytes());
        bytes.extend_from_slice(&[jump_true, jump_false]);
        bytes.extend_from_slice(&k.to_ne_bytes());
    }
    bytes
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: libc::c_int, arch: TargetArch) -> Result<Vec<u8>, String> {
    let errno = u32::try_from(errno).unwrap_or(1);
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno), arch)
        .map_err(|error| error.to_string())?;
    let program = BpfProgram::try_from(filter).map_err(|error| error.to_string())?;
    // `struct sock_filter` as the kernel reads it: code (u16), jt, jf (u8), k (u32), native order.
    let mut bytes = Vec::with_capacity(program.len() * 8);
    for instruction in &program {
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.extend_from_slice(&[instruction.jt, instruction.jf]);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_programs_compile_to_whole_instructions() {
        let programs = programs().unwrap();
        assert!(programs.iter().all(|program| !program.is_empty() && program.len() % 8 == 0));
        assert!(programs[0].len() > programs[1].len());
        if cfg!(target_arch = "x86_64") {
            assert_eq!(programs.len(), 3, "x32 is refused on x86_64");
        }
    }
}
