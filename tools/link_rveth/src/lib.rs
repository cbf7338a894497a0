//! link_rveth.so: the iproute2 plugin for `ip link ... type rveth`.
//!
//! iproute2 dlopen()s `$IP_LIB_DIR/link_<kind>.so` for kinds it has no code for and uses the
//! `struct link_util` named `<kind>_link_util`. This one gives rveth veth's peer syntax
//! (modelled on iproute2's ip/link_veth.c) plus the source guard, and prints the guard in
//! `ip -d link show`. Written against iproute2 6.1; any other version is refused (ffi.rs).

#![deny(clippy::undocumented_unsafe_blocks)]
// User input reaches this code inside ip's process: no panicking shortcuts.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod args;
mod ffi;
mod guard;
mod uapi;

use core::ffi::{c_char, c_int, CStr};
use std::cell::UnsafeCell;
use std::ffi::CString;

use ffi::{Api, File, IfInfoMsg, LinkUtil, NlMsgHdr, RtAttr, NLM_F_CREATE, PRINT_JSON, REQ_MAX};

const IFLA_RVETH_PEER: c_int = uapi::IFLA_RVETH_PEER as c_int;
const IFLA_RVETH_GUARD: c_int = uapi::IFLA_RVETH_GUARD as c_int;
const IFLA_RVETH_PEER_GUARD: c_int = uapi::IFLA_RVETH_PEER_GUARD as c_int;
const IFLA_RVETH_GUARD_OPTS: c_int = uapi::IFLA_RVETH_GUARD_OPTS as c_int;
const IFLA_RVETH_PEER_GUARD_OPTS: c_int = uapi::IFLA_RVETH_PEER_GUARD_OPTS as c_int;
/// The header's `IFLA_RVETH_MAX` (a macro over the enum, which bindgen cannot evaluate).
const IFLA_RVETH_MAX: c_int = uapi::__IFLA_RVETH_MAX as c_int - 1;

const NLMSG_HDRLEN: usize = core::mem::size_of::<NlMsgHdr>();
const RTA_HDRLEN: usize = core::mem::size_of::<RtAttr>();
const IFINFO_LEN: usize = core::mem::size_of::<IfInfoMsg>();

/// The exported `struct link_util`; ip writes `next` when it links it into its list.
#[repr(transparent)]
pub struct Exported(UnsafeCell<LinkUtil>);

// SAFETY: ip is single-threaded and only writes `next`, once, right after dlsym().
unsafe impl Sync for Exported {}

#[allow(non_upper_case_globals)]
#[no_mangle]
pub static rveth_link_util: Exported = Exported(UnsafeCell::new(LinkUtil {
    next: core::ptr::null_mut(),
    id: c"rveth".as_ptr(),
    maxattr: IFLA_RVETH_MAX,
    parse_opt: Some(rveth_parse_opt),
    print_opt: Some(rveth_print_opt),
    print_xstats: None,
    print_help: Some(rveth_print_help),
    parse_ifla_xstats: None,
    print_ifla_xstats: None,
}));

/// Why a request could not be built; already reported on stderr.
struct Failed;

fn fail(msg: &str) -> Failed {
    eprint!("{msg}");
    if !msg.ends_with('\n') {
        eprintln!();
    }
    Failed
}

/// Room for `more` bytes (aligned) before veth's 1 KiB bound on the request.
///
/// # Safety
/// `n` is ip's request being built.
unsafe fn ensure_room(n: *mut NlMsgHdr, more: usize, what: &str) -> Result<(), Failed> {
    // SAFETY: the caller passes ip's live request header.
    let used = unsafe { (*n).len } as usize;
    if ((used + 3) & !3) + more > REQ_MAX {
        return Err(fail(&format!(
            "Error: {what} does not fit in one ip request ({REQ_MAX} bytes); \
             use fewer guard prefixes or create the link over netlink."
        )));
    }
    Ok(())
}

/// An attribute of type `ty` with `payload` (a nest's contents).
///
/// # Safety
/// `n` is ip's request being built.
unsafe fn put_nest(
    api: &Api,
    n: *mut NlMsgHdr,
    ty: c_int,
    payload: &[u8],
    what: &str,
) -> Result<(), Failed> {
    // SAFETY: `n` is ip's request (caller's contract).
    unsafe { ensure_room(n, RTA_HDRLEN + payload.len(), what)? };
    let len = c_int::try_from(payload.len()).map_err(|_| fail("Error: guard list too long"))?;
    // SAFETY: addattr_l copies `len` bytes of `payload` and checks the bound itself too.
    let r = unsafe { (api.addattr_l)(n, REQ_MAX as c_int, ty, payload.as_ptr().cast(), len) };
    if r < 0 {
        return Err(Failed); // addattr_l printed why
    }
    Ok(())
}

/// One end's guard words: IFLA_RVETH_[PEER_]GUARD (list) and IFLA_RVETH_[PEER_]GUARD_OPTS.
///
/// # Safety
/// `n` is ip's request being built.
unsafe fn put_guard(
    api: &Api,
    n: *mut NlMsgHdr,
    (list_ty, opts_ty): (c_int, c_int),
    plan: &args::GuardPlan,
) -> Result<(), Failed> {
    if let Some(list) = &plan.list {
        let payload = guard::encode_guard(list);
        // SAFETY: caller's contract.
        unsafe { put_nest(api, n, list_ty, &payload, "the guard list")? };
    }
    if !plan.opts.is_empty() {
        let payload = guard::encode_opts(&plan.opts);
        // SAFETY: caller's contract.
        unsafe { put_nest(api, n, opts_ty, &payload, "the guard options")? };
    }
    Ok(())
}

/// IFLA_RVETH_PEER exactly as veth_parse_opt() builds VETH_INFO_PEER: a struct ifinfomsg
/// and the peer's IFLA_* attributes, parsed by ip's own iplink_parse().
///
/// # Safety
/// `n` is ip's request being built; `argv[i]` for every i in `peer_args` is a valid C string.
unsafe fn put_peer(
    api: &Api,
    n: *mut NlMsgHdr,
    argv: *mut *mut c_char,
    peer_args: &[usize],
) -> Result<(), Failed> {
    // SAFETY: caller's contract on `n`.
    unsafe { ensure_room(n, RTA_HDRLEN + IFINFO_LEN, "the peer")? };
    // iplink_parse writes the flags/index it parses into the request's own ifinfomsg: keep the
    // device's, hand the parsed ones to the peer, as veth does.
    // SAFETY: an RTM_NEWLINK request is a nlmsghdr followed by a struct ifinfomsg.
    let ifm = unsafe { &mut *n.cast::<u8>().add(NLMSG_HDRLEN).cast::<IfInfoMsg>() };
    let (flags, change, index) = (ifm.flags, ifm.change, ifm.index);
    ifm.flags = 0;
    ifm.change = 0;
    ifm.index = 0;

    // SAFETY: room was checked above; addattr_nest appends an empty attribute at the tail.
    let nest = unsafe { (api.addattr_nest)(n, REQ_MAX as c_int, IFLA_RVETH_PEER) };
    // SAFETY: the nest's payload (16 bytes, checked above) becomes the peer's ifinfomsg; ip's
    // request buffer is larger than REQ_MAX, and it is zeroed here rather than assumed zero.
    unsafe {
        core::ptr::write_bytes(nest.cast::<u8>().add(RTA_HDRLEN), 0, IFINFO_LEN);
        (*n).len += IFINFO_LEN as u32;
    }

    let mut pargv: Vec<*mut c_char> = peer_args
        .iter()
        // SAFETY: each index is below ip's argc.
        .map(|&i| unsafe { *argv.add(i) })
        .collect();
    pargv.push(core::ptr::null_mut());
    let pargc = c_int::try_from(peer_args.len()).map_err(|_| fail("Error: too many arguments"))?;
    let mut ty: *mut c_char = core::ptr::null_mut();
    // SAFETY: iplink_parse(argc, argv, struct iplink_req *, char **type) of iproute2 6.1; the
    // request starts with its nlmsghdr, as veth passes it. It may exit() on a bad argument.
    let consumed = unsafe { (api.iplink_parse)(pargc, pargv.as_mut_ptr(), n, &mut ty) };
    if consumed < 0 {
        return Err(Failed); // iplink_parse printed why
    }
    if !ty.is_null() {
        // SAFETY: iplink_parse stored one of our argv strings.
        let t = unsafe { CStr::from_ptr(ty) }.to_string_lossy();
        return Err(fail(&format!(
            "Error: duplicate \"type\": \"{t}\" is the second value."
        )));
    }

    // SAFETY: `nest` is inside the request; its payload is the peer's ifinfomsg.
    let peer_ifm = unsafe { &mut *nest.cast::<u8>().add(RTA_HDRLEN).cast::<IfInfoMsg>() };
    // SAFETY: as for `ifm` above; re-borrowed after iplink_parse wrote through `n`.
    let ifm = unsafe { &mut *n.cast::<u8>().add(NLMSG_HDRLEN).cast::<IfInfoMsg>() };
    peer_ifm.index = ifm.index;
    peer_ifm.flags = ifm.flags;
    peer_ifm.change = ifm.change;
    ifm.flags = flags;
    ifm.change = change;
    ifm.index = index;
    // SAFETY: closes the nest opened above.
    unsafe { (api.addattr_nest_end)(n, nest) };
    Ok(())
}

/// `ip link add|set ... type rveth ARGS`: appends to IFLA_INFO_DATA; non-zero = ip fails.
unsafe extern "C" fn rveth_parse_opt(
    _lu: *mut LinkUtil,
    argc: c_int,
    argv: *mut *mut c_char,
    n: *mut NlMsgHdr,
) -> c_int {
    let api = match ffi::api() {
        Ok(a) => a,
        Err(e) => {
            fail(e);
            return -1;
        }
    };
    let count = usize::try_from(argc).unwrap_or(0);
    let mut owned = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: ip passes argc valid C strings.
        let s = unsafe { CStr::from_ptr(*argv.add(i)) };
        owned.push(s.to_string_lossy());
    }
    let strs: Vec<&str> = owned.iter().map(|s| s.as_ref()).collect();
    // SAFETY: ip's request header.
    let create = unsafe { (*n).flags } & NLM_F_CREATE != 0;
    let plan = match args::parse(&strs, create) {
        Ok(p) => p,
        Err(e) => {
            fail(&e.to_string());
            return -1;
        }
    };
    // SAFETY: `n` is ip's request; peer indexes come from parse() and are below argc.
    let built = unsafe {
        (|| {
            put_guard(
                api,
                n,
                (IFLA_RVETH_GUARD, IFLA_RVETH_GUARD_OPTS),
                &plan.guard,
            )?;
            if let Some(p) = &plan.peer {
                put_guard(
                    api,
                    n,
                    (IFLA_RVETH_PEER_GUARD, IFLA_RVETH_PEER_GUARD_OPTS),
                    &p.guard,
                )?;
                put_peer(api, n, argv, &p.args)?;
            }
            Ok::<(), Failed>(())
        })()
    };
    if built.is_ok() {
        0
    } else {
        -1
    }
}

/// The payload of attribute `ty` of ip's table, if reported.
///
/// # Safety
/// `tb` is ip's table of IFLA_INFO_DATA attributes, `tb[0..=IFLA_RVETH_MAX]`.
unsafe fn reported<'a>(tb: *mut *mut RtAttr, ty: c_int) -> Option<&'a [u8]> {
    // SAFETY: `ty` <= maxattr (caller's contract).
    let attr = unsafe { *tb.add(ty as usize) };
    if attr.is_null() {
        return None;
    }
    // SAFETY: ip validated rta_len against the message when it parsed the nest.
    let len = usize::from(unsafe { (*attr).len });
    if len < RTA_HDRLEN {
        return None;
    }
    // SAFETY: `len` bytes starting at the attribute lie inside ip's received message.
    let raw = unsafe { core::slice::from_raw_parts(attr.cast::<u8>(), len) };
    Some(&raw[RTA_HDRLEN..])
}

/// What `ip -d link show` prints of the guard (text form); None when it is off. The options
/// only when the kernel reported them.
pub fn guard_text(list: &[String], deny: bool, opts: Option<&guard::Reported>) -> Option<String> {
    if list.is_empty() && !deny {
        return None;
    }
    let words = if deny {
        "deny".to_string()
    } else {
        list.join(",")
    };
    let Some(opts) = opts else {
        return Some(format!("guard {words} "));
    };
    let mac = match (opts.mac_mode.as_str(), &opts.mac) {
        ("peer", Some(m)) => format!("peer({m})"),
        ("fixed", Some(m)) => m.clone(),
        (mode, _) => mode.to_string(),
    };
    let on_off = |b: bool| if b { "on" } else { "off" };
    Some(format!(
        "guard {words} guard-mac {mac} guard-dhcp {} guard-tunnels {} ",
        on_off(opts.dhcp),
        on_off(opts.tunnels)
    ))
}

/// `ip -d link show`: the guard, when the kernel reports one.
unsafe extern "C" fn rveth_print_opt(_lu: *mut LinkUtil, f: *mut File, tb: *mut *mut RtAttr) {
    let api = match ffi::api() {
        Ok(a) => a,
        Err(e) => {
            fail(e);
            return;
        }
    };
    if tb.is_null() {
        return; // no IFLA_INFO_DATA
    }
    // SAFETY: ip passes tb[0..=maxattr] (maxattr = IFLA_RVETH_MAX).
    let (list_raw, opts_raw) = unsafe {
        (
            reported(tb, IFLA_RVETH_GUARD),
            reported(tb, IFLA_RVETH_GUARD_OPTS),
        )
    };
    let Some(list_raw) = list_raw else {
        return;
    };
    let list = guard::decode_list(list_raw);
    let deny = guard::has_deny(list_raw);
    let opts = opts_raw.map(guard::decode_opts);
    let cs = |s: &str| CString::new(s).unwrap_or_default();
    // SAFETY: ip's JSON printer helpers; all strings are NUL-terminated and outlive the call.
    unsafe {
        if (api.is_json_context)() {
            (api.open_json_array)(PRINT_JSON, c"guard".as_ptr());
            for p in &list {
                let s = cs(p);
                (api.print_color_string)(
                    PRINT_JSON,
                    0,
                    core::ptr::null(),
                    core::ptr::null(),
                    s.as_ptr(),
                );
            }
            (api.close_json_array)(PRINT_JSON, core::ptr::null());
            (api.print_color_bool)(
                PRINT_JSON,
                0,
                c"guard_deny".as_ptr(),
                core::ptr::null(),
                deny,
            );
            if let Some(opts) = &opts {
                let mode = cs(&opts.mac_mode);
                (api.print_color_string)(
                    PRINT_JSON,
                    0,
                    c"guard_mac_mode".as_ptr(),
                    core::ptr::null(),
                    mode.as_ptr(),
                );
                if let Some(m) = &opts.mac {
                    let m = cs(m);
                    (api.print_color_string)(
                        PRINT_JSON,
                        0,
                        c"guard_mac".as_ptr(),
                        core::ptr::null(),
                        m.as_ptr(),
                    );
                }
                (api.print_color_bool)(
                    PRINT_JSON,
                    0,
                    c"guard_dhcp".as_ptr(),
                    core::ptr::null(),
                    opts.dhcp,
                );
                (api.print_color_bool)(
                    PRINT_JSON,
                    0,
                    c"guard_tunnels".as_ptr(),
                    core::ptr::null(),
                    opts.tunnels,
                );
            }
        } else if let Some(text) = guard_text(&list, deny, opts.as_ref()) {
            let s = cs(&text);
            ffi::fputs(s.as_ptr(), f);
        }
    }
}

/// `ip link help rveth`.
unsafe extern "C" fn rveth_print_help(
    _lu: *mut LinkUtil,
    _argc: c_int,
    _argv: *mut *mut c_char,
    f: *mut File,
) {
    if let Err(e) = ffi::api() {
        fail(e);
        return;
    }
    if let Ok(s) = CString::new(args::USAGE) {
        // SAFETY: `f` is the stream ip passed (stdout).
        unsafe { ffi::fputs(s.as_ptr(), f) };
    }
}
