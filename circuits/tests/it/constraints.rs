//! Constraint budget: linear in N+M and at most 300 per slot at tier 1024.

use zktx_circuits::{CircuitInfo, Tier};

fn constraints(capacity: usize) -> usize {
    CircuitInfo::measure(Tier::new(capacity).unwrap()).constraints
}

#[test]
fn at_most_300_constraints_per_slot_and_linear() {
    let counts: Vec<(usize, usize)> = [16usize, 64, 256, 1024]
        .iter()
        .map(|&n| (n, constraints(n)))
        .collect();
    for &(n, c) in &counts {
        let per_slot = c as f64 / (2 * n) as f64;
        assert!(
            per_slot <= 300.0,
            "tier {n}: {c} constraints, {per_slot:.1} per slot"
        );
    }
    // Linear: the slope between 256 and 1024 predicts 16 and 64 to within 2%.
    let (n1, c1) = counts[2];
    let (n2, c2) = counts[3];
    let slope = (c2 - c1) as f64 / (n2 - n1) as f64;
    let intercept = c1 as f64 - slope * n1 as f64;
    for &(n, c) in &counts[..2] {
        let predicted = intercept + slope * n as f64;
        assert!(
            ((c as f64 - predicted) / c as f64).abs() < 0.02,
            "tier {n}: {c} vs {predicted:.0}"
        );
    }
}
