//! Links libmemcachedutil against libmemcached and generates its C header.
//!
//! Link: `-lmemcached` from the directory where cargo puts the root package's
//! `libmemcached.so` for the same profile (so build the root package first), or from
//! `LIBMEMCACHED_RS_LINK_DIR` when set, for example to link against another
//! libmemcached 1.1 build. The result gets SONAME `libmemcachedutil.so.2` and RUNPATH
//! `$ORIGIN`, so an installed copy finds `libmemcached.so.11` beside it.
//!
//! Header: cbindgen (configured by cbindgen.toml) always writes `OUT_DIR/util.h`. When
//! `LIBMEMCACHED_RS_INCLUDE_DIR` is set, it also writes
//! `$LIBMEMCACHED_RS_INCLUDE_DIR/libmemcachedutil-1.0/util.h`; `make headers` uses that to
//! refresh the committed copy under include/.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=LIBMEMCACHED_RS_LINK_DIR");
    println!("cargo:rerun-if-env-changed=LIBMEMCACHED_RS_INCLUDE_DIR");

    link_libmemcached();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmemcachedutil.so.2");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN");
    generate_header();
}

fn link_libmemcached() {
    let link_dir = match env::var_os("LIBMEMCACHED_RS_LINK_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => profile_dir(),
    };
    // `cargo check` (as in `make headers`) runs this script without linking, so a missing
    // library only warns. A real link would then pick up the system's libmemcached.so.
    if !link_dir.join("libmemcached.so").exists() {
        println!(
            "cargo:warning=no libmemcached.so in {}: build the root package first (make does)",
            link_dir.display()
        );
    }
    println!("cargo:rustc-link-search=native={}", link_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        link_dir.join("libmemcached.so").display()
    );
}

/// `target/<profile>` (or `target/<triple>/<profile>`): `OUT_DIR` is
/// `<profile dir>/build/<package>-<hash>/out`.
fn profile_dir() -> PathBuf {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    out_dir
        .ancestors()
        .nth(3)
        .expect("OUT_DIR is <profile dir>/build/<package>-<hash>/out")
        .to_path_buf()
}

fn generate_header() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("util/cbindgen.toml is readable and valid");
    let header = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can generate the util header");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    header.write_to_file(out_dir.join("util.h"));

    if let Some(include_dir) = env::var_os("LIBMEMCACHED_RS_INCLUDE_DIR") {
        let target = Path::new(&include_dir)
            .join("libmemcachedutil-1.0")
            .join("util.h");
        header.write_to_file(target);
    }
}
