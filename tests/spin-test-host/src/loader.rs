//! Loading the component the way Spin does: a `wasm32-wasip1` build is a core module, which Spin
//! turns into a component with the WASI preview-1 *reactor* adapter at load time.

use anyhow::{anyhow, Context, Result};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::instance::InstanceState;

/// Whether the bytes are a core module (`\0asm` version 1) rather than a component.
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

/// Core module → component, with the reactor adapter; a component is returned as it is.
pub fn componentize(bytes: &[u8]) -> Result<Vec<u8>> {
    if !is_core_module(bytes) {
        return Ok(bytes.to_vec());
    }
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(bytes)
        .context("reading the core module's component-type sections")?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .context("adding the WASI preview-1 reactor adapter")?
        .encode()
        .context("encoding the component")
}

/// wasmtime has its own error type; this crate speaks anyhow.
fn w<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(|e| anyhow!("{e:?}"))
}

pub fn engine() -> Result<Engine> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    // Profiling aids (docs/TESTING.md "Where a request's wasm time goes"), off by default: fuel
    // makes every instance count the wasm instructions it runs; a perf map lets `perf` name them.
    if fuel_counting() {
        config.consume_fuel(true);
    }
    if std::env::var_os("SPIN_TEST_HOST_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    w(Engine::new(&config))
}

/// Whether `SPIN_TEST_HOST_FUEL` asks for each request's count of wasm instructions (its fuel),
/// printed to stderr.
/// Read once, so that the engine and every request agree.
pub fn fuel_counting() -> bool {
    static FUEL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FUEL.get_or_init(|| std::env::var_os("SPIN_TEST_HOST_FUEL").is_some())
}

/// Compiles the component and links it against exactly what this host provides: WASI p2,
/// wasi:http, `fermyon:spin/redis@2.0.0` and `fermyon:spin/variables@2.0.0`. An import of anything
/// else fails here, by name.
pub fn prepare(engine: &Engine, wasm: &[u8]) -> Result<ProxyPre<InstanceState>> {
    let component = w(Component::new(engine, componentize(wasm)?)).context("compiling the component")?;
    let mut linker: Linker<InstanceState> = Linker::new(engine);
    w(wasmtime_wasi::p2::add_to_linker_async(&mut linker))?;
    w(wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker))?;
    w(crate::redis_host::TestHost::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |s| s))?;
    let pre = w(linker.instantiate_pre(&component))
        .context("the component imports something this test host does not provide")?;
    w(ProxyPre::new(pre)).context("the component does not export wasi:http/incoming-handler")
}
