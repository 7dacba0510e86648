//! Run with: cargo run --example weather_api
//!
//! The same idea as `photo_api`, with plain hyper and tower (no axum): one
//! service behind `ScopeGateLayer`, requiring
//! `https://weather.example.com/weather.read`.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use scopegate::local::LocalIssuer;
use scopegate::{Claims, ResourceServer, Verifier};
use tower::ServiceBuilder;
use tracing_subscriber::EnvFilter;

const READ: &str = "https://weather.example.com/weather.read";

async fn forecast(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // The layer put the verified claims here.
    let client = request
        .extensions()
        .get::<Claims>()
        .and_then(Claims::client_id)
        .unwrap_or("?")
        .to_string();
    let body = match request.uri().path() {
        "/forecast" => format!(r#"{{"city":"Seattle","sky":"rain","for":"{client}"}}"#),
        _ => {
            let mut response = Response::new(Full::default());
            *response.status_mut() = StatusCode::NOT_FOUND;
            return Ok(response);
        }
    };
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();

    let issuer = LocalIssuer::start().await?;
    let verifier = Verifier::builder(issuer.issuer())
        .token_use("access")
        .client_ids(["weather-app"])
        .resource_server(
            ResourceServer::new("https://weather.example.com", "Weather API")
                .scope("weather.read", "Retrieve weather information"),
        )
        .build()?;

    let service = ServiceBuilder::new()
        .layer(verifier.require(READ)?)
        .service_fn(forecast);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/forecast", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    let good = issuer.token().client_id("weather-app").scope(READ).mint();
    let other_scope = issuer
        .token()
        .client_id("weather-app")
        .scope("https://weather.example.com/weather.write")
        .mint();
    let http = reqwest::Client::new();
    for (who, token) in [
        ("no token", None),
        ("weather.read", Some(&good)),
        ("wrong scope", Some(&other_scope)),
    ] {
        let mut request = http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        println!(
            "GET /forecast  {who:13} -> {}  {}",
            response.status(),
            response.text().await?
        );
    }
    Ok(())
}
