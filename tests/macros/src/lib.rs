//! `#[on_both_engines]`: runs one black-box test on SQLite and on PostgreSQL.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, spanned::Spanned, Expr, FnArg, ItemFn, MetaNameValue};

/// Turns `async fn name(app: &TestApp) { .. }` into the tests `name::sqlite` and
/// `name::postgres`, each with a fresh app on its engine that is torn down afterwards.
/// Without PostgreSQL the second is skipped with a message, except under `CI=true`, where it
/// fails.
///
/// `#[on_both_engines(config = adjust)]` changes the settings first, where `adjust` is a
/// function or closure taking `&mut tests::Config`.
#[proc_macro_attribute]
pub fn on_both_engines(attr: TokenStream, item: TokenStream) -> TokenStream {
    let test = parse_macro_input!(item as ItemFn);
    let adjust = match config(attr) {
        Ok(adjust) => adjust,
        Err(error) => return error.to_compile_error().into(),
    };
    if let Err(error) = check_signature(&test) {
        return error.to_compile_error().into();
    }
    let name = &test.sig.ident;
    quote! {
        #test

        mod #name {
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app =
                    ::tests::TestApp::spawn_configured(::tests::Backend::Sqlite, #adjust).await;
                super::#name(&app).await;
                app.teardown().await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) =
                    ::tests::TestApp::spawn_postgres_configured_or_skip(#adjust).await
                else {
                    return;
                };
                super::#name(&app).await;
                app.teardown().await;
            }
        }
    }
    .into()
}

/// The `config = expr` argument, or a change that changes nothing.
fn config(attr: TokenStream) -> syn::Result<Expr> {
    if attr.is_empty() {
        return Ok(syn::parse_quote!(|_: &mut ::tests::Config| {}));
    }
    let argument: MetaNameValue = syn::parse(attr)?;
    if !argument.path.is_ident("config") {
        return Err(syn::Error::new(
            argument.path.span(),
            "expected `config = <function or closure>`",
        ));
    }
    Ok(argument.value)
}

fn check_signature(test: &ItemFn) -> syn::Result<()> {
    if test.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            test.sig.span(),
            "a test on both engines is an `async fn`",
        ));
    }
    match test.sig.inputs.first() {
        Some(FnArg::Typed(_)) if test.sig.inputs.len() == 1 => Ok(()),
        _ => Err(syn::Error::new(
            test.sig.inputs.span(),
            "a test on both engines takes one argument, the app: `app: &TestApp`",
        )),
    }
}
