//! Generates the plugin's view of include/uapi/linux/rveth.h (and AF_INET/AF_INET6 from the
//! C library's headers) with bindgen, so the netlink numbers are written in one place only.
//! Runs the `bindgen` command that scripts/bootstrap.sh installs ($BINDGEN overrides it).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let uapi = crate_dir.join("../../include/uapi");
    let header = uapi.join("linux/rveth.h");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let wrapper = out_dir.join("uapi.h");
    std::fs::write(
        &wrapper,
        "#include <sys/socket.h>\n#include <linux/rveth.h>\n",
    )
    .expect("write the bindgen wrapper header");
    let out = out_dir.join("uapi.rs");
    let bindgen = env::var_os("BINDGEN").unwrap_or_else(|| "bindgen".into());
    let status = Command::new(&bindgen)
        .arg(&wrapper)
        .args([
            "--allowlist-var",
            "IFLA_RVETH_.*|__IFLA_RVETH_.*|RVETH_.*|AF_INET6?",
        ])
        .args(["--allowlist-type", "rveth_prefix|rveth_guard_mac_mode"])
        .arg("-o")
        .arg(&out)
        .arg("--")
        .arg(format!("-I{}", uapi.display()))
        .status()
        .unwrap_or_else(|e| {
            panic!("running {bindgen:?} (bindgen-cli, see scripts/bootstrap.sh): {e}")
        });
    assert!(status.success(), "bindgen failed on {}", header.display());
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BINDGEN");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
}
