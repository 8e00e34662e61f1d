//! Rules of the source tree that a reader relies on, checked so they stay true across the whole
//! workspace — the library (`crates/leptos-fusionauth`), this app and `examples/minimal`: no
//! circle of files in any crate's `src/` (dependencies point one way), no function over 60
//! lines (sources and tests), nothing of the demo compiled into the library, and the two copies
//! of the Leptos settings (`Leptos.toml` and `[package.metadata.leptos]`) in step.

#![allow(clippy::unwrap_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use syn::{spanned::Spanned, visit::Visit};

const MAX_FUNCTION_LINES: usize = 60;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The library's `src/`.
fn library_src() -> PathBuf {
    root().join("crates/leptos-fusionauth/src")
}

/// The `src/` of every crate of the workspace.
fn crate_sources() -> Vec<PathBuf> {
    vec![
        library_src(),
        root().join("src"),
        root().join("examples/minimal/src"),
    ]
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// Every `.rs` file under a crate's `src/` except the binary's `main.rs`, by module path
/// (`["crate", "server", "oidc"]` for `src/server/oidc/mod.rs`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    rust_files(src)
        .into_iter()
        .filter_map(|file| Some((module_path(src, &file)?, file)))
        .collect()
}

fn module_path(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("lib") if parts.len() == 1 => parts.clear(),
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    parts.insert(0, "crate".into());
    Some(parts)
}

/// The paths a file names outside its tests: `use` trees (flattened) and paths in code.
#[derive(Default)]
struct Paths {
    found: Vec<Vec<String>>,
    /// Child modules this file declares (`mod x;`), which its paths may start with.
    children: BTreeSet<String>,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Impl(i) => &i.attrs,
            _ => &[],
        };
        if is_test_only(attrs) {
            return;
        }
        if let syn::Item::Mod(module) = item {
            self.children.insert(module.ident.to_string());
        }
        syn::visit::visit_item(self, item);
    }

    /// `pub(crate)` names the crate root without depending on it.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        flatten_use(&item.tree, Vec::new(), &mut self.found);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.found
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

fn flatten_use(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let extend = |name: String| {
        let mut path = prefix.clone();
        path.push(name);
        path
    };
    match tree {
        syn::UseTree::Path(p) => flatten_use(&p.tree, extend(p.ident.to_string()), out),
        syn::UseTree::Name(n) => out.push(extend(n.ident.to_string())),
        syn::UseTree::Rename(r) => out.push(extend(r.ident.to_string())),
        syn::UseTree::Glob(_) => out.push(prefix),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten_use(item, prefix.clone(), out);
            }
        }
    }
}

/// `path`, named in module `here`, as an absolute module path (or `None`: another crate).
fn absolute(here: &[String], children: &BTreeSet<String>, path: &[String]) -> Option<Vec<String>> {
    let mut current: Vec<String> = here.to_vec();
    let mut rest = path.iter().peekable();
    match rest.peek().map(|s| s.as_str()) {
        Some("crate") => {
            current = vec!["crate".into()];
            rest.next();
        }
        Some("self") => {
            rest.next();
        }
        Some("super") => {
            while rest.peek().map(|s| s.as_str()) == Some("super") {
                current.pop();
                rest.next();
            }
        }
        Some(first) if children.contains(first) => {}
        _ => return None,
    }
    current.extend(rest.cloned());
    Some(current)
}

/// The file-level dependency graph of a crate's `src/`.
fn dependency_graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let modules = modules(src);
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let syntax = syn::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut paths = Paths::default();
        paths.visit_file(&syntax);
        let mut targets = BTreeSet::new();
        for path in &paths.found {
            let Some(absolute) = absolute(module, &paths.children, path) else {
                continue;
            };
            // The longest prefix that is a module file is the file the path points into.
            let target = (1..=absolute.len())
                .rev()
                .find_map(|n| modules.get(&absolute[..n]));
            if let Some(target) = target.filter(|t| *t != file) {
                targets.insert(target.clone());
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

/// A circle of files, if there is one.
fn find_cycle(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        done: &mut BTreeSet<PathBuf>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(start) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[start..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

fn short(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_circle_of_files_in_any_crate() {
    let library = dependency_graph(&library_src());
    assert!(
        library[&library_src().join("server/oidc/mod.rs")]
            .contains(&library_src().join("server/config.rs")),
        "the graph sees imports (oidc uses config)"
    );
    for src in crate_sources() {
        if let Some(cycle) = find_cycle(&dependency_graph(&src)) {
            let names: Vec<String> = cycle.iter().map(|p| short(p)).collect();
            panic!("a circle of files: {}", names.join(" → "));
        }
    }
}

#[test]
fn the_protocol_knows_nothing_of_pages_or_sessions() {
    let graph = dependency_graph(&library_src());
    let oidc_dir = library_src().join("server/oidc");
    let allowed = [library_src().join("server/config.rs")];
    for (file, targets) in &graph {
        if !file.starts_with(&oidc_dir) {
            continue;
        }
        for target in targets {
            assert!(
                target.starts_with(&oidc_dir) || allowed.contains(target),
                "{} depends on {}",
                short(file),
                short(target)
            );
        }
    }
}

#[test]
fn the_shared_types_import_nothing_of_the_server() {
    let graph = dependency_graph(&library_src());
    let shared = library_src().join("shared");
    for (file, targets) in graph.iter().filter(|(file, _)| file.starts_with(&shared)) {
        for target in targets {
            assert!(
                target.starts_with(&shared),
                "{} (compiled for the browser) depends on {}",
                short(file),
                short(target)
            );
        }
    }
}

/// The file names a source file compiles in (`include_str!("…")`, `include_bytes!("…")`).
fn included_files(source: &str) -> Vec<String> {
    ["include_str!(\"", "include_bytes!(\""]
        .iter()
        .flat_map(|macro_call| source.match_indices(macro_call).map(|(at, m)| at + m.len()))
        .filter_map(|start| Some(source[start..].split_once('"')?.0.to_owned()))
        .collect()
}

#[test]
fn nothing_of_the_demo_compiles_into_the_library() {
    let crate_dir = library_src().parent().unwrap().canonicalize().unwrap();
    let demo_pages = ["\"/admin\"", "\"/account\"", "\"/healthz\""];
    for file in rust_files(&library_src()) {
        let source = std::fs::read_to_string(&file).unwrap();
        for included in included_files(&source) {
            let target = file
                .parent()
                .unwrap()
                .join(&included)
                .canonicalize()
                .unwrap();
            assert!(
                target.starts_with(&crate_dir),
                "{} compiles in {included}, outside the library",
                short(&file)
            );
        }
        for page in demo_pages {
            assert!(
                !source.contains(page),
                "{} names the demo's {page}",
                short(&file)
            );
        }
        assert!(
            !source.contains("leptos_fusionauth_demo"),
            "{}",
            short(&file)
        );
    }
    assert_eq!(
        included_files(r#"include_str!("../../.env.example") include_bytes!("a.bin")"#),
        ["../../.env.example", "a.bin"]
    );
}

#[test]
fn the_cycle_check_finds_a_planted_circle() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let c = PathBuf::from("c.rs");
    let mut graph = BTreeMap::new();
    graph.insert(a.clone(), BTreeSet::from([b.clone()]));
    graph.insert(b.clone(), BTreeSet::from([c.clone()]));
    graph.insert(c.clone(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.insert(c.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(find_cycle(&graph), Some(vec![a.clone(), b, c, a]));
}

/// Functions and methods in one file that are longer than [`MAX_FUNCTION_LINES`].
struct Functions {
    file: PathBuf,
    long: Vec<String>,
}

impl Functions {
    /// Counts from the signature to the closing brace (doc comments do not count).
    fn check(&mut self, signature: &syn::Signature, body: &syn::Block) {
        let (start, end) = (signature.span().start().line, body.span().end().line);
        let lines = end - start + 1;
        if lines > MAX_FUNCTION_LINES {
            self.long.push(format!(
                "{}:{start} {} ({lines} lines)",
                short(&self.file),
                signature.ident
            ));
        }
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

/// Every Rust file of the workspace: the crates' sources, their tests and the example.
fn workspace_rust_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = crate_sources()
        .iter()
        .flat_map(|src| rust_files(src))
        .collect();
    for tests in [
        root().join("tests"),
        root().join("crates/leptos-fusionauth/tests"),
    ] {
        files.extend(rust_files(&tests));
    }
    files
}

#[test]
fn no_function_is_over_sixty_lines() {
    let mut long = Vec::new();
    for file in workspace_rust_files() {
        let syntax = syn::parse_file(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut functions = Functions {
            file,
            long: Vec::new(),
        };
        functions.visit_file(&syntax);
        long.extend(functions.long);
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The promise `examples/minimal` keeps: a whole app on the library in this many lines of Rust.
const MINIMAL_EXAMPLE_MAX_LINES: usize = 150;

#[test]
fn the_minimal_example_stays_within_its_line_budget() {
    let lines: usize = rust_files(&root().join("examples/minimal/src"))
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap().lines().count())
        .sum();
    assert!(
        lines <= MINIMAL_EXAMPLE_MAX_LINES,
        "examples/minimal has {lines} lines of Rust, over its {MINIMAL_EXAMPLE_MAX_LINES}"
    );
}

/// The lines of `text`, each without its indentation, blank lines dropped.
fn trimmed_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn the_readmes_show_the_example_as_it_is() {
    for readme in ["crates/leptos-fusionauth/README.md", "README.md"] {
        readme_blocks_are_in_the_example(&std::fs::read_to_string(root().join(readme)).unwrap());
    }
}

/// Every `rust,ignore` block of `readme` is, line for line, in `examples/minimal`.
fn readme_blocks_are_in_the_example(readme: &str) {
    let example: Vec<String> = rust_files(&root().join("examples/minimal/src"))
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    let blocks: Vec<&str> = readme
        .split("```rust,ignore\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(code, _)| code))
        .collect();
    assert!(
        blocks.len() >= 3,
        "the README shows the integration in code blocks"
    );
    for block in blocks {
        let wanted = trimmed_lines(block);
        let found = example.iter().any(|source| {
            trimmed_lines(source)
                .windows(wanted.len())
                .any(|window| window == wanted.as_slice())
        });
        assert!(found, "a README block is not in examples/minimal:\n{block}");
    }
}

fn toml_file(name: &str) -> toml::Table {
    let path = root().join(name);
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

fn leptos_metadata(table: &toml::Table) -> &toml::Table {
    table["package"]["metadata"]["leptos"].as_table().unwrap()
}

#[test]
fn leptos_toml_agrees_with_cargo_toml() {
    let cargo = toml_file("Cargo.toml");
    let leptos = toml_file("Leptos.toml");
    let (cargo, leptos) = (leptos_metadata(&cargo), leptos_metadata(&leptos));
    // `env` is the runtime's own setting: the release binary runs as PROD.
    for (key, value) in leptos.iter().filter(|(key, _)| *key != "env") {
        assert_eq!(
            cargo.get(key),
            Some(value),
            "Leptos.toml sets {key} = {value}; [package.metadata.leptos] in Cargo.toml differs"
        );
    }
}
