//! The committed C header is what cbindgen makes of `src/c_api` now. `ASP_BLESS=1` rewrites
//! it instead of failing.

use std::path::Path;

#[test]
fn header_is_fresh() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses src/c_api")
        .write(&mut generated);
    let header = crate_dir.join("../bindings/c/include/asp.h");
    if std::env::var_os("ASP_BLESS").is_some() {
        std::fs::write(&header, &generated).expect("write asp.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "bindings/c/include/asp.h is out of date with asp-ffi/src/c_api: run `ASP_BLESS=1 cargo test -p asp-ffi --test c_header` and commit it"
    );
}
