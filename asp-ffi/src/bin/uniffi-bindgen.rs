//! `uniffi-bindgen`: writes the Kotlin, Swift and Python sources for the built `asp_ffi`
//! library (`uniffi-bindgen generate --library target/debug/libasp_ffi.so --language python
//! --out-dir OUT`).

fn main() {
    uniffi::uniffi_bindgen_main();
}
