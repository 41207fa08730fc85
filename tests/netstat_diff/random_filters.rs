//! Random filter expressions: one generator for the bytecode compiler's
//! unit test (src/filter/bytecode.rs includes this file with `#[path]`)
//! and the differential test that runs them in the kernel (filters.rs).
//! It lives here because an integration test cannot see the library's
//! `cfg(test)` items, and in the library it would ship in release builds.

/// Endless expressions over `atoms`, each joined by `not`, `or`, `and` and
/// juxtaposition (an implicit `and`) up to `depth` levels deep, drawn from
/// a xorshift sequence started at `seed`: the same expressions every run.
/// A juxtaposition is written `a b` when `bare_juxtaposition`, else
/// `( a b )`.
pub fn random_expressions<'a>(
    atoms: &'a [&'a str],
    seed: u64,
    depth: u32,
    bare_juxtaposition: bool,
) -> impl Iterator<Item = String> + 'a {
    let mut seed = seed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    std::iter::from_fn(move || Some(build(&mut next, atoms, depth, bare_juxtaposition)))
}

fn build(next: &mut impl FnMut() -> u64, atoms: &[&str], depth: u32, bare: bool) -> String {
    let pick = next() % if depth == 0 { 1 } else { 5 };
    if pick == 0 {
        return atoms[(next() % atoms.len() as u64) as usize].to_string();
    }
    let mut deeper = || build(next, atoms, depth - 1, bare);
    match pick {
        1 => format!("not {}", deeper()),
        2 => format!("( {} or {} )", deeper(), deeper()),
        3 => format!("( {} and {} )", deeper(), deeper()),
        _ if bare => format!("{} {}", deeper(), deeper()),
        _ => format!("( {} {} )", deeper(), deeper()),
    }
}
