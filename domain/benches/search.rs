//! Search latency and index memory at 10,000 repositories / 100,000 tags.
//!
//! Builds a synthetic index with realistic sharing (a few base layers in every image, team
//! layers shared within a namespace, unique top layers, `latest`/`stable` aliasing the newest
//! tag), then times every query kind and reports p50/p99. The baseline, measured in the same
//! run, is the obvious alternative: a flat list of (repository, tag, digest, config, layers)
//! rows scanned for each query. Memory is counted by a global allocator wrapper.
//!
//! Run: `cargo bench -p regent-domain --bench search`

use regent_domain::index::{IndexData, IndexedLayer, IndexedManifest, SearchQuery, SearchResults};
use regent_domain::reference::{Digest, RepositoryName, Tag};
use regent_domain::registry::{MediaType, Platform};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const REPOSITORIES: usize = 10_000;
const TAGS_PER_REPOSITORY: usize = 10;
const QUERIES_PER_KIND: usize = 2_000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn digest(kind: &str, i: usize) -> Digest {
    Digest::sha256_of(format!("{kind}-{i}").as_bytes())
}

/// One tag as the naive baseline keeps it.
struct Row {
    repository: String,
    tag: String,
    manifest: String,
    config: String,
    layers: Vec<String>,
}

struct Synthetic {
    index: IndexData,
    rows: Vec<Row>,
    names: Vec<String>,
}

fn build() -> (Synthetic, usize, usize) {
    let mut rng = Rng(0x5eed);
    let base_layers: Vec<Digest> = (0..20).map(|i| digest("base", i)).collect();
    let team_layers: Vec<Digest> = (0..1_000).map(|i| digest("team", i)).collect();
    let mut index = IndexData::default();
    let mut plan = Vec::new();
    let mut manifest_no = 0;
    let before_index = LIVE.load(Ordering::Relaxed);
    let mut names = Vec::new();
    for r in 0..REPOSITORIES {
        let team = r / 50;
        let name = RepositoryName::parse(&format!("team-{team:03}/service-{r:05}")).unwrap();
        names.push(name.to_string());
        let mut tags = Vec::new();
        let versions = TAGS_PER_REPOSITORY - 2;
        let mut newest = None;
        for v in 0..versions {
            manifest_no += 1;
            let m = digest("manifest", manifest_no);
            let layers = vec![
                base_layers[rng.below(base_layers.len())].clone(),
                team_layers[(team * 5 + rng.below(5)) % team_layers.len()].clone(),
                digest("unique", manifest_no),
            ];
            let config = digest("config", manifest_no);
            index.insert_manifest(
                &m,
                &IndexedManifest::Image {
                    media_type: MediaType::OciManifest,
                    config: config.clone(),
                    config_size: 1_500,
                    layers: layers
                        .iter()
                        .map(|d| IndexedLayer {
                            digest: d.clone(),
                            size: 1_000_000 + rng.below(50_000_000) as u64,
                            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                        })
                        .collect(),
                    created: Some("2024-05-01T12:00:00Z".into()),
                    platform: Some(Platform {
                        os: "linux".into(),
                        architecture: "amd64".into(),
                        variant: None,
                    }),
                },
            );
            tags.push((Tag::parse(&format!("v1.{v}")).unwrap(), m.clone()));
            plan.push((
                name.to_string(),
                format!("v1.{v}"),
                m.clone(),
                config.clone(),
                layers.clone(),
            ));
            newest = Some((m, config, layers));
        }
        // The aliases are tags like any other, in the index and in the baseline's rows.
        let (newest, config, layers) = newest.unwrap();
        for alias in ["latest", "stable"] {
            tags.push((Tag::parse(alias).unwrap(), newest.clone()));
            plan.push((
                name.to_string(),
                alias.to_owned(),
                newest.clone(),
                config.clone(),
                layers.clone(),
            ));
        }
        index.set_repository(&name, &tags);
    }
    let index_bytes = LIVE.load(Ordering::Relaxed) - before_index;
    let before_rows = LIVE.load(Ordering::Relaxed);
    let mut rows = Vec::with_capacity(plan.len());
    for (repository, tag, m, config, layers) in &plan {
        rows.push(Row {
            repository: repository.clone(),
            tag: tag.clone(),
            manifest: m.to_string(),
            config: config.to_string(),
            layers: layers.iter().map(ToString::to_string).collect(),
        });
    }
    let rows_bytes = LIVE.load(Ordering::Relaxed) - before_rows;
    drop(plan);
    (Synthetic { index, rows, names }, index_bytes, rows_bytes)
}

/// The baseline: scan every row.
fn naive(rows: &[Row], query: &SearchQuery) -> usize {
    match query {
        SearchQuery::Name(q) => {
            let mut last = "";
            let mut n = 0;
            for r in rows {
                if r.repository != last && r.repository.contains(q.as_str()) {
                    n += 1;
                }
                last = &r.repository;
            }
            n
        }
        SearchQuery::Tag(t) => rows.iter().filter(|r| r.tag.contains(t.as_str())).count(),
        SearchQuery::RepoTag { repository, tag } => rows
            .iter()
            .filter(|r| r.repository.contains(repository.as_str()) && r.tag.contains(tag.as_str()))
            .count(),
        SearchQuery::Digest { prefix, .. } => {
            let hit = |d: &str| d["sha256:".len()..].starts_with(prefix.as_str());
            rows.iter()
                .filter(|r| hit(&r.manifest) || hit(&r.config) || r.layers.iter().any(|l| hit(l)))
                .count()
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() -> std::process::ExitCode {
    let mut targets = regent_testkit::targets::Targets::new();
    let started = Instant::now();
    let (synthetic, index_bytes, rows_bytes) = build();
    let tags = synthetic.index.tag_count();
    println!(
        "built {} repositories, {} tags, {} manifests in {:.1} s",
        synthetic.index.repository_count(),
        tags,
        synthetic.index.manifest_count(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "memory: index {:.1} MiB = {:.0} B/tag; baseline rows {:.1} MiB = {:.0} B/tag; ratio {:.2}",
        index_bytes as f64 / 1048576.0,
        index_bytes as f64 / tags as f64,
        rows_bytes as f64 / 1048576.0,
        rows_bytes as f64 / tags as f64,
        index_bytes as f64 / rows_bytes as f64,
    );
    targets.at_most("index memory per tag", index_bytes as f64 / tags as f64, 1024.0, "B");

    let mut rng = Rng(42);
    let rows = &synthetic.rows;
    type Make<'a> = Box<dyn Fn(&mut Rng) -> String + 'a>;
    let kinds: Vec<(&str, Make)> = vec![
        (
            "name, exact",
            Box::new(|rng| synthetic.names[rng.below(REPOSITORIES)].clone()),
        ),
        (
            "name, component",
            Box::new(|rng| format!("service-{:03}", rng.below(1000))),
        ),
        (
            "repo:tag",
            Box::new(|rng| format!("service-{:04}:v1.", rng.below(1000))),
        ),
        (
            "manifest digest",
            Box::new(|rng| rows[rng.below(rows.len())].manifest.clone()),
        ),
        (
            "image id (12 hex)",
            Box::new(|rng| rows[rng.below(rows.len())].config["sha256:".len()..][..12].to_owned()),
        ),
        (
            "layer, unique",
            Box::new(|rng| format!("layer:{}", rows[rng.below(rows.len())].layers[2])),
        ),
        (
            "layer, team-shared",
            Box::new(|rng| format!("layer:{}", rows[rng.below(rows.len())].layers[1])),
        ),
        (
            "layer, base (in ~5% of all)",
            Box::new(|rng| format!("layer:{}", rows[rng.below(rows.len())].layers[0])),
        ),
    ];
    println!(
        "\n{:<30} {:>10} {:>10} {:>12} {:>12} {:>8}",
        "query kind", "p50", "p99", "base p50", "base p99", "p50 x"
    );
    for (name, make) in &kinds {
        let queries: Vec<SearchQuery> = (0..QUERIES_PER_KIND)
            .map(|_| SearchQuery::parse(&make(&mut rng)).unwrap().unwrap())
            .collect();
        let mut ours = Vec::with_capacity(queries.len());
        let mut base = Vec::with_capacity(queries.len() / 10);
        let mut disagree = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let t = Instant::now();
            let r = synthetic.index.search(q, &|_| true, 0, 25);
            ours.push(t.elapsed());
            let total = black_box(match r {
                SearchResults::Repositories { total, .. } | SearchResults::Tags { total, .. } => total,
            });
            // The scan is slow; a tenth of the queries is enough for its percentiles. Its
            // answer is the referee: a fast index that finds the wrong number fails the bench.
            if i % 10 == 0 {
                let t = Instant::now();
                let expected = black_box(naive(rows, q));
                base.push(t.elapsed());
                if expected != total {
                    disagree.push(format!("{q:?}: index {total}, scan {expected}"));
                }
            }
        }
        ours.sort();
        base.sort();
        let (p50, p99) = (percentile(&ours, 0.5), percentile(&ours, 0.99));
        let (b50, b99) = (percentile(&base, 0.5), percentile(&base, 0.99));
        println!(
            "{:<30} {:>10} {:>10} {:>12} {:>12} {:>8.0}",
            name,
            micros(p50),
            micros(p99),
            micros(b50),
            micros(b99),
            b50.as_secs_f64() / p50.as_secs_f64().max(1e-9)
        );
        targets.at_most(&format!("{name}: p99"), p99.as_secs_f64() * 1e3, 2.0, "ms");
        targets.holds(
            format!(
                "{name}: the index's totals equal the scan's on {} queries{}",
                base.len(),
                disagree.first().map_or(String::new(), |d| format!(" (first miss {d})"))
            ),
            disagree.is_empty(),
        );
    }
    targets.exit()
}
