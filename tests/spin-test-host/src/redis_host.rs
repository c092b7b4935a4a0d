//! The `fermyon:spin/redis@2.0.0` and `fermyon:spin/variables@2.0.0` host interfaces, with Spin 4's
//! semantics (crates/factor-outbound-redis/src/host.rs, crates/factor-variables):
//! - `open` is refused with `invalid-address` unless the address matches `allowed_outbound_hosts`,
//!   or when the redis crate cannot parse it; a failure to connect is `other(<message>)`;
//! - every `open` makes a new multiplexed connection, never pooled across requests;
//! - `execute` flattens array (and set) replies recursively into one flat list: nil → `nil`,
//!   integer → `int64`, bulk string → `binary`, simple string and OK → `status`, double and big
//!   number → `binary` text, boolean → `int64`; maps, attributes, verbatim strings and pushes are an
//!   error; server errors are `other(<message>)`; replies over 128 MiB are refused.

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, FromRedisValue, Value};
use wasmtime::component::Resource;

use crate::instance::InstanceState;

wasmtime::component::bindgen!({
    path: "wit",
    world: "test-host",
    imports: { default: async },
    with: { "fermyon:spin/redis.connection": RedisConnection },
});

use fermyon::spin::redis::{self as spin_redis, Error, RedisParameter, RedisResult};
use fermyon::spin::variables;

/// An open connection, as a resource in the instance's table.
pub struct RedisConnection(MultiplexedConnection);

/// Spin's limit on what one Redis reply may buffer in the host (`spin_world::MAX_HOST_BUFFERED_BYTES`).
const MAX_HOST_BUFFERED_BYTES: usize = 128 << 20;

fn other(e: impl std::fmt::Display) -> Error {
    Error::Other(e.to_string())
}

impl InstanceState {
    fn connection(&mut self, conn: &Resource<RedisConnection>) -> Result<MultiplexedConnection, Error> {
        self.table
            .get(conn)
            .map(|c| c.0.clone())
            .map_err(|_| Error::Other("could not find connection for resource".into()))
    }

    /// Counts one Redis round trip for the request record.
    fn round_trip(&mut self, command: &str) {
        self.record.redis_commands.push(command.to_ascii_uppercase());
    }
}

impl spin_redis::Host for InstanceState {}

impl spin_redis::HostConnection for InstanceState {
    async fn open(&mut self, address: String) -> Result<Resource<RedisConnection>, Error> {
        if self.record.redis_opens == 0 {
            for name in self.app.resolver.application_variables() {
                *self.record.variables_resolved.entry(name.clone()).or_default() += 1;
            }
        }
        self.record.redis_opens += 1;
        if !self.app.allowed_hosts.iter().any(|h| h.allows(&address)) {
            return Err(Error::InvalidAddress);
        }
        let client = redis::Client::open(address.as_str()).map_err(|_| Error::InvalidAddress)?;
        let conn = client.get_multiplexed_async_connection().await.map_err(other)?;
        self.table.push(RedisConnection(conn)).map_err(|_| Error::TooManyConnections)
    }

    async fn publish(
        &mut self,
        conn: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("PUBLISH");
        let () = c.publish(&channel, &payload).await.map_err(other)?;
        Ok(())
    }

    async fn get(&mut self, conn: Resource<RedisConnection>, key: String) -> Result<Option<Vec<u8>>, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("GET");
        let value: Option<Vec<u8>> = c.get(&key).await.map_err(other)?;
        if value.as_ref().map_or(0, Vec::len) > MAX_HOST_BUFFERED_BYTES {
            return Err(Error::Other(format!("query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes")));
        }
        Ok(value)
    }

    async fn set(&mut self, conn: Resource<RedisConnection>, key: String, value: Vec<u8>) -> Result<(), Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("SET");
        let () = c.set(&key, &value).await.map_err(other)?;
        Ok(())
    }

    async fn incr(&mut self, conn: Resource<RedisConnection>, key: String) -> Result<i64, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("INCRBY");
        c.incr(&key, 1).await.map_err(other)
    }

    async fn del(&mut self, conn: Resource<RedisConnection>, keys: Vec<String>) -> Result<u32, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("DEL");
        c.del(&keys).await.map_err(other)
    }

    async fn sadd(&mut self, conn: Resource<RedisConnection>, key: String, values: Vec<String>) -> Result<u32, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("SADD");
        c.sadd(&key, &values).await.map_err(|e| {
            if e.kind() == redis::ErrorKind::TypeError {
                Error::TypeError
            } else {
                other(e)
            }
        })
    }

    async fn smembers(&mut self, conn: Resource<RedisConnection>, key: String) -> Result<Vec<String>, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("SMEMBERS");
        c.smembers(&key).await.map_err(other)
    }

    async fn srem(&mut self, conn: Resource<RedisConnection>, key: String, values: Vec<String>) -> Result<u32, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip("SREM");
        c.srem(&key, &values).await.map_err(other)
    }

    async fn execute(
        &mut self,
        conn: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let mut c = self.connection(&conn)?;
        self.round_trip(&command);
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(v) => cmd.arg(v),
                RedisParameter::Binary(v) => cmd.arg(v),
            };
        }
        let results: FlatResults = cmd.query_async(&mut c).await.map_err(other)?;
        let size: usize = results.0.iter().map(memory_size).sum();
        if size > MAX_HOST_BUFFERED_BYTES {
            return Err(Error::Other(format!("query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes")));
        }
        Ok(results.0)
    }

    async fn drop(&mut self, conn: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

/// A reply flattened the way Spin flattens it.
struct FlatResults(Vec<RedisResult>);

impl FromRedisValue for FlatResults {
    fn from_redis_value(value: &Value) -> redis::RedisResult<Self> {
        let mut out = Vec::new();
        flatten(value, &mut out)?;
        Ok(FlatResults(out))
    }
}

fn unsupported(what: &str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::TypeError, "Could not convert Redis response", what.to_owned()))
}

pub(crate) fn flatten(value: &Value, out: &mut Vec<RedisResult>) -> redis::RedisResult<()> {
    match value {
        Value::Nil => out.push(RedisResult::Nil),
        Value::Int(v) => out.push(RedisResult::Int64(*v)),
        Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes.clone())),
        Value::SimpleString(s) => out.push(RedisResult::Status(s.clone())),
        Value::Okay => out.push(RedisResult::Status("OK".into())),
        Value::Array(items) | Value::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        Value::Double(v) => out.push(RedisResult::Binary(v.to_string().into_bytes())),
        Value::Boolean(v) => out.push(RedisResult::Int64(i64::from(*v))),
        Value::BigNumber(v) => out.push(RedisResult::Binary(v.to_string().into_bytes())),
        Value::Map(_) => return Err(unsupported("Redis Map type is not supported")),
        Value::Attribute { .. } => return Err(unsupported("Redis Attribute type is not supported")),
        Value::VerbatimString { .. } => return Err(unsupported("Redis string with format attribute is not supported")),
        Value::Push { .. } => return Err(unsupported("Redis Pub/Sub types are not supported")),
        Value::ServerError(e) => {
            return Err(redis::RedisError::from((redis::ErrorKind::ResponseError, "Server error", format!("{e:?}"))))
        }
    }
    Ok(())
}

fn memory_size(value: &RedisResult) -> usize {
    std::mem::size_of::<RedisResult>()
        + match value {
            RedisResult::Nil | RedisResult::Int64(_) => 0,
            RedisResult::Binary(b) => b.len(),
            RedisResult::Status(s) => s.len(),
        }
}

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> Result<String, variables::Error> {
        self.record.variable_gets += 1;
        if crate::variables::check_name(&name).is_err() {
            return Err(variables::Error::InvalidName(name));
        }
        for reference in self.app.resolver.references(&name) {
            *self.record.variables_resolved.entry(reference.clone()).or_default() += 1;
        }
        self.app
            .resolver
            .component_variable(&name)
            .map(str::to_owned)
            .ok_or(variables::Error::Undefined(format!("no variable for {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(value: Value) -> redis::RedisResult<Vec<RedisResult>> {
        let mut out = Vec::new();
        flatten(&value, &mut out).map(|()| out)
    }

    #[test]
    fn nested_arrays_are_flattened_recursively() {
        let reply = Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![Value::Int(2), Value::BulkString(b"x".to_vec()), Value::Array(vec![Value::Nil])]),
            Value::Nil,
            Value::Okay,
            Value::SimpleString("PONG".into()),
        ]);
        let got = flat(reply).unwrap();
        let want = [
            RedisResult::Int64(1),
            RedisResult::Int64(2),
            RedisResult::Binary(b"x".to_vec()),
            RedisResult::Nil,
            RedisResult::Nil,
            RedisResult::Status("OK".into()),
            RedisResult::Status("PONG".into()),
        ];
        assert_eq!(format!("{got:?}"), format!("{want:?}"));
    }

    #[test]
    fn maps_are_an_error() {
        assert!(flat(Value::Map(vec![(Value::Int(1), Value::Int(2))])).is_err());
        assert!(flat(Value::Array(vec![Value::Int(1), Value::Map(vec![])])).is_err());
    }
}
