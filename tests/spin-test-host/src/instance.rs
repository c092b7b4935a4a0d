//! What one component instance (one request) sees: WASI, wasi:http, and Spin's interfaces.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::OutputFile;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHost;
use crate::variables::Resolver;
use crate::RequestRecord;

/// What every instance of one `serve` shares: resolved variables, allowed hosts, and the files the
/// component's stdout and stderr go to.
pub struct ServeConfig {
    pub resolver: Resolver,
    pub allowed_hosts: Vec<AllowedHost>,
    pub stdout: OutputFile,
    pub stderr: OutputFile,
}

pub struct InstanceState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) app: Arc<ServeConfig>,
    pub(crate) record: RequestRecord,
}

impl InstanceState {
    pub fn new(app: Arc<ServeConfig>, record: RequestRecord) -> InstanceState {
        // Like Spin: no environment, no arguments, no files, no sockets; stdout and stderr go to the
        // server's `<component>_stdout.txt` and `<component>_stderr.txt`, as Spin writes them to
        // `.spin/logs/` (or `--log-dir`).
        let wasi = WasiCtx::builder().stdout(app.stdout.clone()).stderr(app.stderr.clone()).build();
        InstanceState { wasi, http: WasiHttpCtx::new(), table: ResourceTable::new(), app, record }
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: Default::default() }
    }
}
