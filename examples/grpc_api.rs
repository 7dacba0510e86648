//! Run with: cargo run --example grpc_api
//!
//! A gRPC photo service (tonic, over HTTP/2) protected by scopegate, with a
//! local Cognito-compatible issuer in the same process, so it runs offline:
//!
//! - `photos.Photos/List` needs `com.example.photos/read`;
//! - `photos.Photos/Upload` needs `com.example.photos/write`.
//!
//! Each method is an axum route with its own `require(...)` layer. A refused
//! call is answered the gRPC way (HTTP 200, `grpc-status` 16
//! `UNAUTHENTICATED` or 7 `PERMISSION_DENIED`), so a tonic client sees a
//! `Status`, not a transport error. The example gets a read-only machine
//! token from `/oauth2/token`, makes an allowed call and two refused ones
//! with a real tonic client, prints what came back, and exits.
//!
//! The messages and the client are written out by hand below: they are what
//! `tonic-build` would generate from `photos.proto`, so that neither the
//! example nor its test needs `protoc`.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::post;
use scopegate::local::LocalIssuer;
use scopegate::{Claims, ConfigError, ResourceServer, Verifier};
use tonic::Status;
use tonic_prost::ProstCodec;

pub(crate) const READ: &str = "com.example.photos/read";
pub(crate) const WRITE: &str = "com.example.photos/write";

/// The resource server of the seed's console steps.
pub(crate) fn photo_server() -> ResourceServer {
    ResourceServer::new("com.example.photos", "Photo Server")
        .scope("read", "view your photos")
        .scope("write", "update your photos")
}

/// The service's two methods, each behind the scope it needs.
pub(crate) fn app(verifier: &Verifier) -> Result<Router, ConfigError> {
    Ok(Router::new()
        .route(
            photos::LIST,
            post(list).route_layer(verifier.require(READ)?),
        )
        .route(
            photos::UPLOAD,
            post(upload).route_layer(verifier.require(WRITE)?),
        ))
}

/// Who called: the verified token's client (machines) or user.
fn caller<T>(request: &tonic::Request<T>) -> String {
    let claims = request.extensions().get::<Claims>();
    claims
        .and_then(|c| c.username().or(c.client_id()))
        .unwrap_or("?")
        .to_string()
}

async fn list(request: Request) -> Response {
    let method = tower::service_fn(|request: tonic::Request<photos::ListRequest>| async move {
        Ok::<_, Status>(tonic::Response::new(photos::ListReply {
            names: vec!["beach.jpg".into(), "hills.jpg".into()],
            caller: caller(&request),
        }))
    });
    let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
    grpc.unary(method, request).await.map(Body::new)
}

async fn upload(request: Request) -> Response {
    let method = tower::service_fn(
        |request: tonic::Request<photos::UploadRequest>| async move {
            let caller = caller(&request);
            let name = request.into_inner().name;
            Ok::<_, Status>(tonic::Response::new(photos::UploadReply { name, caller }))
        },
    );
    let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
    grpc.unary(method, request).await.map(Body::new)
}

/// What `tonic-build` would generate from:
///
/// ```proto
/// syntax = "proto3";
/// package photos;
/// service Photos {
///   rpc List(ListRequest) returns (ListReply);
///   rpc Upload(UploadRequest) returns (UploadReply);
/// }
/// message ListRequest {}
/// message ListReply { repeated string names = 1; string caller = 2; }
/// message UploadRequest { string name = 1; }
/// message UploadReply { string name = 1; string caller = 2; }
/// ```
pub(crate) mod photos {
    use http::uri::PathAndQuery;
    use tonic::transport::Channel;
    use tonic::{Request, Response, Status};
    use tonic_prost::ProstCodec;

    pub(crate) const LIST: &str = "/photos.Photos/List";
    pub(crate) const UPLOAD: &str = "/photos.Photos/Upload";

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ListRequest {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ListReply {
        #[prost(string, repeated, tag = "1")]
        pub(crate) names: Vec<String>,
        #[prost(string, tag = "2")]
        pub(crate) caller: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct UploadRequest {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct UploadReply {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
        #[prost(string, tag = "2")]
        pub(crate) caller: String,
    }

    /// A client of the service, with an optional bearer token on each call.
    #[derive(Clone)]
    pub(crate) struct PhotosClient {
        inner: tonic::client::Grpc<Channel>,
    }

    impl PhotosClient {
        /// A client over HTTP/2 to `url` (`http://127.0.0.1:PORT`).
        pub(crate) async fn connect(
            url: String,
        ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
            let channel = Channel::from_shared(url)?.connect().await?;
            Ok(PhotosClient {
                inner: tonic::client::Grpc::new(channel),
            })
        }

        pub(crate) async fn list(&mut self, token: Option<&str>) -> Result<ListReply, Status> {
            self.call(LIST, ListRequest {}, token).await
        }

        pub(crate) async fn upload(
            &mut self,
            name: &str,
            token: Option<&str>,
        ) -> Result<UploadReply, Status> {
            let message = UploadRequest { name: name.into() };
            self.call(UPLOAD, message, token).await
        }

        async fn call<M1, M2>(
            &mut self,
            path: &'static str,
            message: M1,
            token: Option<&str>,
        ) -> Result<M2, Status>
        where
            M1: prost::Message + Send + Sync + 'static,
            M2: prost::Message + Default + Send + Sync + 'static,
        {
            let mut request = Request::new(message);
            if let Some(token) = token {
                let value = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| Status::invalid_argument("a token is visible ASCII"))?;
                request.metadata_mut().insert("authorization", value);
            }
            self.inner
                .ready()
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            let codec = ProstCodec::<M1, M2>::default();
            let path = PathAndQuery::from_static(path);
            self.inner
                .unary(request, path, codec)
                .await
                .map(Response::into_inner)
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = LocalIssuer::start().await?;
    let pool = issuer.pool();
    pool.create_resource_server(&photo_server())?;
    let viewer = pool.create_client("viewer", &[READ])?;
    let verifier = Verifier::builder(pool.issuer())
        .token_use("access")
        .client_ids([viewer.id.as_str()])
        .resource_server(photo_server())
        .build()?;

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let service = app(&verifier)?;
    tokio::spawn(async move { axum::serve(listener, service).await });
    println!(
        "gRPC photo service at {url} (HTTP/2), issuer {}",
        pool.url()
    );

    let token = issuer
        .client_credentials(&viewer.id, &viewer.secret, None)
        .await?;
    let mut client = photos::PhotosClient::connect(url)
        .await
        .map_err(|e| e.to_string())?;

    let listed = client.list(Some(&token)).await?;
    println!(
        "List with a read token: {:?} (caller {})",
        listed.names, listed.caller
    );
    match client.upload("new.jpg", Some(&token)).await {
        Ok(_) => println!("Upload with a read token: allowed (unexpected)"),
        Err(status) => println!(
            "Upload with a read token: {:?}, {:?}",
            status.code(),
            status.message()
        ),
    }
    match client.list(None).await {
        Ok(_) => println!("List without a token: allowed (unexpected)"),
        Err(status) => println!(
            "List without a token: {:?}, {:?}",
            status.code(),
            status.message()
        ),
    }
    Ok(())
}
