//! Shapes of multi-row statements.
//!
//! A statement with a different number of rows is a different SQL text, which the database
//! parses and plans again and which pushes others out of the statement cache. Batches are
//! therefore cut into a few fixed sizes — full chunks, then powers of two — so that every
//! batch reuses the same prepared statements.

/// Sizes (each at most `max`, a power of two) that add up to `n`.
pub fn sizes(n: usize, max: usize) -> Vec<usize> {
    debug_assert!(max.is_power_of_two());
    let mut out = vec![max; n / max];
    let mut rest = n % max;
    let mut size = max / 2;
    while rest > 0 {
        if rest >= size {
            out.push(size);
            rest -= size;
        }
        size /= 2;
    }
    out
}

/// Splits `items` into slices of the sizes above.
pub fn chunks<T>(items: &[T], max: usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    for s in sizes(items.len(), max) {
        out.push(&items[start..start + s]);
        start += s;
    }
    out
}

/// Pads a list of keys for an `IN (…)` list to the next power of two (at most `max` per
/// chunk) by repeating its last key, which changes no result.
pub fn padded<T: Clone>(items: &[T], max: usize) -> Vec<Vec<T>> {
    items
        .chunks(max)
        .map(|c| {
            let mut v = c.to_vec();
            let target = v.len().next_power_of_two();
            if let Some(last) = c.last() {
                v.resize(target, last.clone());
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_add_up_and_are_few() {
        for n in 0..2000 {
            let s = sizes(n, 64);
            assert_eq!(s.iter().sum::<usize>(), n);
            assert!(s.iter().all(|x| x.is_power_of_two() && *x <= 64));
        }
        assert_eq!(sizes(600, 64), vec![64, 64, 64, 64, 64, 64, 64, 64, 64, 16, 8]);
        assert_eq!(padded(&[1, 2, 3], 64), vec![vec![1, 2, 3, 3]]);
        assert_eq!(chunks(&[1, 2, 3, 4, 5], 4), vec![&[1, 2, 3, 4][..], &[5][..]]);
    }
}
