//! The C side: iproute2 6.1's structures and the helpers the `ip` binary exports.
//!
//! The helpers are looked up with dlsym() at run time rather than linked: an `ip` that lacks
//! one, or is another iproute2 version, gets an error message instead of a crash.

use core::ffi::{c_char, c_int, c_void, CStr};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The iproute2 release whose `struct link_util`, `iplink_parse()` and `struct iplink_req`
/// this plugin is written against (Debian bookworm's iproute2 6.1.0).
pub const IPROUTE2_SERIES: &str = "6.1";

pub const NLM_F_CREATE: u16 = 0x400;
/// veth's bound on the request (ip's `struct iplink_req` has 16 + 16 + 1024 bytes).
pub const REQ_MAX: usize = 1024;

pub type File = c_void;

#[repr(C)]
pub struct NlMsgHdr {
    pub len: u32,
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

#[repr(C)]
pub struct IfInfoMsg {
    pub family: u8,
    pub pad: u8,
    pub ty: u16,
    pub index: i32,
    pub flags: u32,
    pub change: u32,
}

#[repr(C)]
pub struct RtAttr {
    pub len: u16,
    pub ty: u16,
}

/// ip/ip_common.h of iproute2 6.1 (72 bytes; checked against Debian's binary with gdb).
#[repr(C)]
pub struct LinkUtil {
    pub next: *mut LinkUtil,
    pub id: *const c_char,
    pub maxattr: c_int,
    pub parse_opt: Option<
        unsafe extern "C" fn(*mut LinkUtil, c_int, *mut *mut c_char, *mut NlMsgHdr) -> c_int,
    >,
    pub print_opt: Option<unsafe extern "C" fn(*mut LinkUtil, *mut File, *mut *mut RtAttr)>,
    pub print_xstats: Option<unsafe extern "C" fn(*mut LinkUtil, *mut File, *mut RtAttr)>,
    pub print_help: Option<unsafe extern "C" fn(*mut LinkUtil, c_int, *mut *mut c_char, *mut File)>,
    pub parse_ifla_xstats:
        Option<unsafe extern "C" fn(*mut LinkUtil, c_int, *mut *mut c_char) -> c_int>,
    pub print_ifla_xstats: Option<unsafe extern "C" fn(*mut NlMsgHdr, *mut c_void) -> c_int>,
}

const _: () = assert!(core::mem::size_of::<LinkUtil>() == 72);
const _: () = assert!(core::mem::size_of::<IfInfoMsg>() == 16);
const _: () = assert!(core::mem::size_of::<NlMsgHdr>() == 16);

/// enum output_type
pub const PRINT_JSON: c_int = 2;

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    pub fn fputs(s: *const c_char, stream: *mut File) -> c_int;
}

// The helpers of `ip` this plugin calls, with their iproute2 6.1 prototypes.
type IplinkParse =
    unsafe extern "C" fn(c_int, *mut *mut c_char, *mut NlMsgHdr, *mut *mut c_char) -> c_int;
type AddattrL = unsafe extern "C" fn(*mut NlMsgHdr, c_int, c_int, *const c_void, c_int) -> c_int;
type AddattrNest = unsafe extern "C" fn(*mut NlMsgHdr, c_int, c_int) -> *mut RtAttr;
type AddattrNestEnd = unsafe extern "C" fn(*mut NlMsgHdr, *mut RtAttr) -> c_int;
type IsJsonContext = unsafe extern "C" fn() -> bool;
type JsonArray = unsafe extern "C" fn(c_int, *const c_char);
type PrintColorString =
    unsafe extern "C" fn(c_int, c_int, *const c_char, *const c_char, *const c_char) -> c_int;
type PrintColorBool =
    unsafe extern "C" fn(c_int, c_int, *const c_char, *const c_char, bool) -> c_int;

pub struct Api {
    pub iplink_parse: IplinkParse,
    pub addattr_l: AddattrL,
    pub addattr_nest: AddattrNest,
    pub addattr_nest_end: AddattrNestEnd,
    pub is_json_context: IsJsonContext,
    pub open_json_array: JsonArray,
    pub close_json_array: JsonArray,
    pub print_color_string: PrintColorString,
    pub print_color_bool: PrintColorBool,
}

fn sym(name: &CStr) -> Result<*mut c_void, String> {
    // SAFETY: RTLD_DEFAULT (null) searches the global scope; `name` is NUL-terminated.
    let p = unsafe { dlsym(core::ptr::null_mut(), name.as_ptr()) };
    if p.is_null() {
        Err(format!(
            "rveth: this ip does not export {}(); link_rveth.so needs iproute2 {IPROUTE2_SERIES}.",
            name.to_string_lossy()
        ))
    } else {
        Ok(p)
    }
}

macro_rules! resolve {
    ($name:literal, $ty:ty) => {{
        let p = sym($name)?;
        // SAFETY: the symbol is iproute2 6.1's function of that name (the version was
        // checked first); the field's type is its prototype there.
        unsafe { core::mem::transmute::<*mut c_void, $ty>(p) }
    }};
}

/// "ip utility, iproute2-6.1.0, libbpf 1.1.2" -> "6.1.0"
pub fn version_from_banner(banner: &str) -> Option<&str> {
    let rest = &banner[banner.find("iproute2-")? + "iproute2-".len()..];
    let end = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|v| !v.is_empty())
}

/// 6.1, 6.1.0, 6.1.0-3... but not 6.10 or 6.11.
pub fn version_supported(v: &str) -> bool {
    v.strip_prefix(IPROUTE2_SERIES)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '+', '~']))
}

/// The running ip's version, from its own `-V` (the process that loaded us is ip).
fn running_version() -> Result<String, String> {
    let out = Command::new("/proc/self/exe")
        .arg("-V")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("rveth: cannot run \"ip -V\" to check the iproute2 version: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    version_from_banner(&text)
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "rveth: \"ip -V\" did not name an iproute2 version: {}",
                text.trim()
            )
        })
}

fn load() -> Result<Api, String> {
    let v = running_version()?;
    if !version_supported(&v) {
        return Err(format!(
            "rveth: link_rveth.so is built for iproute2 {IPROUTE2_SERIES}, this ip is iproute2-{v}; \
             refusing to use it (its link_util and iplink_parse may differ). Rebuild tools/link_rveth \
             for this version, or create rveth links over netlink."
        ));
    }
    Ok(Api {
        iplink_parse: resolve!(c"iplink_parse", IplinkParse),
        addattr_l: resolve!(c"addattr_l", AddattrL),
        addattr_nest: resolve!(c"addattr_nest", AddattrNest),
        addattr_nest_end: resolve!(c"addattr_nest_end", AddattrNestEnd),
        is_json_context: resolve!(c"is_json_context", IsJsonContext),
        open_json_array: resolve!(c"open_json_array", JsonArray),
        close_json_array: resolve!(c"close_json_array", JsonArray),
        print_color_string: resolve!(c"print_color_string", PrintColorString),
        print_color_bool: resolve!(c"print_color_bool", PrintColorBool),
    })
}

/// The checked helpers, or why this ip cannot be used (decided once per process).
pub fn api() -> Result<&'static Api, &'static str> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    match API.get_or_init(load) {
        Ok(a) => Ok(a),
        Err(e) => Err(e.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            version_from_banner("ip utility, iproute2-6.1.0, libbpf 1.1.2\n"),
            Some("6.1.0")
        );
        assert_eq!(
            version_from_banner("ip utility, iproute2-6.12.0\n"),
            Some("6.12.0")
        );
        assert_eq!(version_from_banner("ip utility, iproute2-\n"), None);
        assert_eq!(version_from_banner("something else"), None);
        for ok in ["6.1", "6.1.0", "6.1.0-3", "6.1.1"] {
            assert!(version_supported(ok), "{ok}");
        }
        for bad in ["6.10.0", "6.11", "5.10.0", "6.2.0", "7.1", ""] {
            assert!(!version_supported(bad), "{bad}");
        }
    }
}
