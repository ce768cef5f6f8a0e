//! The import graph between the project's source files: which file names
//! items of which other file of its crate (`crate::…`, `super::…`), outside
//! comments and test modules. Its test keeps it free of loops between two
//! files, so each file can be read with the files it uses and no others
//! (only the tests build it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates' source folders, from the workspace root.
const CRATES: [&str; 6] = [
    "core/src",
    "src",
    "gateway/src",
    "sandbox/src",
    "http-common/src",
    "xtask/src",
];

/// Each file of the crate in `src` and the other files of it that it names.
pub fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files
        .iter()
        .map(|file| (file.clone(), named_files(src, file)))
        .collect()
}

/// The pairs of files that name each other.
pub fn loops(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<(PathBuf, PathBuf)> {
    let mut pairs = Vec::new();
    for (file, named) in graph {
        for other in named {
            if file < other && graph.get(other).is_some_and(|back| back.contains(file)) {
                pairs.push((file.clone(), other.clone()));
            }
        }
    }
    pairs
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The module path of `file` under `src`: `flow/booking.rs` is
/// `["flow", "booking"]`, `flow/mod.rs` and `lib.rs` name their folder.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut path: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path
        .last()
        .is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str()))
    {
        path.pop();
    }
    path
}

/// The file a module path names, if it is one of the crate's.
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    let base = path
        .iter()
        .fold(src.to_path_buf(), |dir, part| dir.join(part));
    [base.with_extension("rs"), base.join("mod.rs")]
        .into_iter()
        .find(|candidate| candidate.is_file())
}

/// The other files of the crate that `file` names in code (not in
/// comments, not in its test module).
fn named_files(src: &Path, file: &Path) -> BTreeSet<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let me = module_of(src, file);
    let mut named = BTreeSet::new();
    for line in code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
    {
        for (start, root) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            let preceded = line[..start].chars().next_back();
            if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut rest = &line[start + root.len()..];
            let mut path = if root == "crate::" {
                Vec::new()
            } else {
                let mut up = 1;
                while let Some(more) = rest.strip_prefix("super::") {
                    up += 1;
                    rest = more;
                }
                me[..me.len().saturating_sub(up)].to_vec()
            };
            path.extend(
                rest.split("::")
                    .map(|part| {
                        part.chars()
                            .take_while(|c| {
                                c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect::<String>()
                    })
                    .take_while(|part| !part.is_empty()),
            );
            let found = (1..=path.len())
                .rev()
                .find_map(|len| file_of(src, &path[..len]));
            if let Some(found) = found.filter(|found| found != file) {
                named.insert(found);
            }
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_files_import_each_other() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = Vec::new();
        for src in CRATES {
            let graph = graph(&root.join(src));
            assert!(graph.len() > 1, "{src} holds the crate's files");
            found.extend(loops(&graph));
        }
        assert_eq!(
            found,
            Vec::<(PathBuf, PathBuf)>::new(),
            "files that import each other"
        );
    }

    #[test]
    fn a_loop_between_two_files_is_found() {
        let dir = std::env::temp_dir().join(format!("imports-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("flow")).unwrap();
        std::fs::write(dir.join("lib.rs"), "mod flow;\nmod api;\n").unwrap();
        std::fs::write(dir.join("api.rs"), "use crate::flow::place::Booked;\n").unwrap();
        std::fs::write(dir.join("flow/mod.rs"), "mod place;\n").unwrap();
        std::fs::write(
            dir.join("flow/place.rs"),
            "// crate::api in a comment is no import\nuse super::super::api::Money;\n",
        )
        .unwrap();
        let graph = graph(&dir);
        let found = loops(&graph);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            vec![(dir.join("api.rs"), dir.join("flow/place.rs"))],
            "{graph:?}"
        );
    }
}
