//! The local issuer, driven by aws-sdk-rust (aws-sdk-cognitoidentityprovider):
//! every action the issuer supports, and its typed errors.

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{OAuthFlowType, ResourceServerScopeType};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args().nth(1).expect("endpoint");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-southeast-2"))
        .credentials_provider(cip::config::Credentials::new(
            "AKID", "secret", None, None, "static",
        ))
        .endpoint_url(&endpoint)
        .load()
        .await;
    let client = cip::Client::new(&config);
    let pool = client
        .create_user_pool()
        .pool_name("RustSdk")
        .send()
        .await?;
    let pool = pool.user_pool.unwrap();
    let id = pool.id.unwrap();
    println!("pool {id} created {:?}", pool.creation_date);
    let scope = |n: &str| {
        ResourceServerScopeType::builder()
            .scope_name(n)
            .scope_description("d")
            .build()
            .unwrap()
    };
    client
        .create_resource_server()
        .user_pool_id(&id)
        .identifier("https://photos.example.com")
        .name("Photo API")
        .scopes(scope("photos.read"))
        .scopes(scope("photos.write"))
        .send()
        .await?;
    let rs = client
        .describe_resource_server()
        .user_pool_id(&id)
        .identifier("https://photos.example.com")
        .send()
        .await?;
    println!("rs {:?}", rs.resource_server.unwrap().scopes.unwrap().len());
    let list = client
        .list_resource_servers()
        .user_pool_id(&id)
        .max_results(10)
        .send()
        .await?;
    println!("list {}", list.resource_servers.len());
    match client
        .describe_resource_server()
        .user_pool_id(&id)
        .identifier("urn:none")
        .send()
        .await
    {
        Err(e) => println!(
            "not found: {:?}",
            e.into_service_error().is_resource_not_found_exception()
        ),
        Ok(_) => panic!("found"),
    }
    match client
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("p")
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("https://photos.example.com/photos.read")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await
    {
        Err(e) => println!(
            "invalid flow: {:?}",
            e.into_service_error().is_invalid_o_auth_flow_exception()
        ),
        Ok(_) => panic!("accepted"),
    }
    match client
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("p")
        .generate_secret(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("https://photos.example.com/photos.delete")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await
    {
        Err(e) => println!(
            "scope missing: {:?}",
            e.into_service_error().is_scope_does_not_exist_exception()
        ),
        Ok(_) => panic!("accepted"),
    }
    let c = client
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("reader")
        .generate_secret(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("https://photos.example.com/photos.read")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await?;
    let c = c.user_pool_client.unwrap();
    println!(
        "client {:?} secret {}",
        c.client_id,
        c.client_secret.is_some()
    );
    let d = client
        .describe_user_pool_client()
        .user_pool_id(&id)
        .client_id(c.client_id.clone().unwrap())
        .send()
        .await?;
    println!(
        "described {:?}",
        d.user_pool_client.unwrap().token_validity_units
    );
    client
        .update_user_pool_client()
        .user_pool_id(&id)
        .client_id(c.client_id.clone().unwrap())
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("https://photos.example.com/photos.write")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await?;
    let lc = client
        .list_user_pool_clients()
        .user_pool_id(&id)
        .max_results(10)
        .send()
        .await?;
    println!("clients {}", lc.user_pool_clients.unwrap().len());
    let pools = client.list_user_pools().max_results(10).send().await?;
    println!("pools {}", pools.user_pools.unwrap().len());
    client
        .delete_user_pool_client()
        .user_pool_id(&id)
        .client_id(c.client_id.unwrap())
        .send()
        .await?;
    client
        .delete_resource_server()
        .user_pool_id(&id)
        .identifier("https://photos.example.com")
        .send()
        .await?;
    client.delete_user_pool().user_pool_id(&id).send().await?;
    println!("aws-sdk-rust interop: ok");
    Ok(())
}
