//! Sets the SONAME of the shared library and generates the C header with cbindgen.
//!
//! The header is written to OUT_DIR on every build. With `LIBMEMCACHED_RS_INCLUDE_DIR=DIR` it
//! is also written to `DIR/libmemcached-1.0/memcached.h`; `make headers` uses that to refresh
//! the committed copy under include/, and `make check-headers` to compare against it.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmemcached.so.11");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=LIBMEMCACHED_RS_INCLUDE_DIR");

    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    // Only the C surface is parsed, so constants of internal modules stay out of the header.
    let mut builder = cbindgen::Builder::new().with_config(config);
    // src/ffi/mod.rs brings in its submodules; src/server.rs defines the opaque instance type.
    for source in ["src/ffi/mod.rs", "src/server.rs"] {
        builder = builder.with_src(crate_dir.join(source));
    }
    let bindings = match builder.generate() {
        Ok(bindings) => bindings,
        Err(error) => panic!("cbindgen failed to generate the header: {error}"),
    };
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings.write_to_file(out_dir.join("memcached.h"));
    if let Ok(dir) = env::var("LIBMEMCACHED_RS_INCLUDE_DIR") {
        let target = PathBuf::from(dir)
            .join("libmemcached-1.0")
            .join("memcached.h");
        bindings.write_to_file(target);
    }
}
