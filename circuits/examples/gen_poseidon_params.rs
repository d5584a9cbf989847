//! Regenerates `params/poseidon-bls12_381-rate8.txt` (run once; the file is pinned).
fn main() {
    print!(
        "{}",
        zktx_circuits::poseidon::render(&zktx_circuits::poseidon::generate())
    );
}
