//! Which packages the product reaches, and how: the walk over the resolved dependency graph.

use std::collections::VecDeque;

use super::Reach;

/// The kinds of one dependency edge (an edge can be several at once, e.g. normal and dev).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EdgeKinds {
    pub normal: bool,
    pub build: bool,
    pub dev: bool,
}

/// Computes each package's [`Reach`] from the product's roots (the product, or every member
/// when no single package is the product).
///
/// A package is `Normal` when a path of normal edges leads to it from a root, `Build` when it
/// is only reached through a build edge (and whatever that build dependency needs, of any kind
/// but dev), `Dev` when only through a reached workspace member's dev-dependency (and
/// `include_dev` is set). Unreached packages get `None`: they are not part of this product.
pub(crate) fn reach(
    edges: &[Vec<(usize, EdgeKinds)>],
    roots: &[usize],
    is_member: &[bool],
    include_dev: bool,
) -> Vec<Option<Reach>> {
    let mut reach: Vec<Option<Reach>> = vec![None; edges.len()];
    for &root in roots {
        reach[root] = Some(Reach::Normal);
    }
    // Normal: the roots and everything their normal edges lead to.
    walk(edges, &mut reach, roots.to_vec(), Reach::Normal, |k| {
        k.normal
    });
    // Build: build edges from anything linked, then whatever build dependencies use.
    let starts = build_starts(edges, &reach, |k| k.build, Reach::Normal);
    walk(edges, &mut reach, starts, Reach::Build, |k| {
        k.normal || k.build
    });
    if include_dev {
        let dev_starts: Vec<usize> = (0..edges.len())
            .filter(|&m| is_member[m] && reach[m].is_some())
            .flat_map(|m| edges[m].iter())
            .filter(|(to, kinds)| kinds.dev && reach[*to].is_none())
            .map(|(to, _)| *to)
            .collect();
        walk(edges, &mut reach, dev_starts, Reach::Dev, |k| {
            k.normal || k.build
        });
    }
    reach
}

/// Targets of `kind` edges from packages already reached as `from`, not yet reached themselves.
fn build_starts(
    edges: &[Vec<(usize, EdgeKinds)>],
    reach: &[Option<Reach>],
    kind: impl Fn(&EdgeKinds) -> bool,
    from: Reach,
) -> Vec<usize> {
    let mut starts = Vec::new();
    for (index, out) in edges.iter().enumerate() {
        if reach[index] != Some(from) {
            continue;
        }
        for (to, kinds) in out {
            if kind(kinds) && reach[*to].is_none() {
                starts.push(*to);
            }
        }
    }
    starts
}

/// Breadth-first walk marking unreached packages with `mark`, following edges that `follow`.
fn walk(
    edges: &[Vec<(usize, EdgeKinds)>],
    reach: &mut [Option<Reach>],
    starts: Vec<usize>,
    mark: Reach,
    follow: impl Fn(&EdgeKinds) -> bool,
) {
    let mut queue: VecDeque<usize> = starts.into();
    for &start in &queue {
        if reach[start].is_none() {
            reach[start] = Some(mark);
        }
    }
    while let Some(at) = queue.pop_front() {
        for (to, kinds) in &edges[at] {
            if follow(kinds) && reach[*to].is_none() {
                reach[*to] = Some(mark);
                queue.push_back(*to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: EdgeKinds = EdgeKinds {
        normal: true,
        build: false,
        dev: false,
    };
    const B: EdgeKinds = EdgeKinds {
        normal: false,
        build: true,
        dev: false,
    };
    const D: EdgeKinds = EdgeKinds {
        normal: false,
        build: false,
        dev: true,
    };

    #[test]
    fn strongest_reach_wins_and_dev_needs_opt_in() {
        // 0 member -> 1 (normal), 0 -> 2 (build), 2 -> 3 (normal), 2 -> 1 (normal),
        // 0 -> 4 (dev), 4 -> 5 (normal), 6 unreachable.
        let edges = vec![
            vec![(1, N), (2, B), (4, D)],
            vec![],
            vec![(3, N), (1, N)],
            vec![],
            vec![(5, N)],
            vec![],
            vec![],
        ];
        let members = [true, false, false, false, false, false, false];
        let without_dev = reach(&edges, &[0], &members, false);
        assert_eq!(
            without_dev,
            vec![
                Some(Reach::Normal),
                Some(Reach::Normal),
                Some(Reach::Build),
                Some(Reach::Build),
                None,
                None,
                None
            ]
        );
        let with_dev = reach(&edges, &[0], &members, true);
        assert_eq!(with_dev[4], Some(Reach::Dev));
        assert_eq!(with_dev[5], Some(Reach::Dev));
        assert_eq!(with_dev[6], None);
    }

    #[test]
    fn build_dependency_of_a_dependency_is_build() {
        // 0 -> 1 (normal), 1 -> 2 (build): 2 is only needed to build 1.
        let edges = vec![vec![(1, N)], vec![(2, B)], vec![]];
        assert_eq!(
            reach(&edges, &[0], &[true, false, false], false)[2],
            Some(Reach::Build)
        );
    }
}
