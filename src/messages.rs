//! Every word a client reads, in one place: the original endpoints' French (as the Flask service
//! wrote it, and in the same spirit where it had nothing to say) and `/v1`'s English problem
//! documents. Errors carry kinds (`error.rs`); this module chooses their words, and a unit test
//! below pins every message exactly.

use crate::error::{ApiError, FieldProblem, HeaderProblem, Missing, ParameterProblem, TooLarge};

/// The original endpoints' answers on success.
pub const USER_CREATED: &str = "Utilisateur créé";
pub const USER_DELETED: &str = "Utilisateur supprimé";
pub const SESSION_STORED: &str = "Session enregistrée";

/// The `error` of an original endpoint's `{"error": ...}` answer.
pub fn original(e: &ApiError) -> String {
    match e {
        ApiError::InvalidJson(_) => "Le corps de la requête n'est pas un JSON valide".into(),
        ApiError::NotAnObject => "Le corps de la requête doit être un objet JSON".into(),
        ApiError::NamesRequired => "Les champs 'nom' et 'prenom' sont obligatoires".into(),
        ApiError::SessionIdMissing => "session_id manquant".into(),
        ApiError::SessionIdInvalid => "session_id invalide : trop long ou avec des caractères de contrôle".into(),
        ApiError::BodyMismatch(_) => "Le corps de la requête ne convient pas".into(),
        ApiError::BodyUnreadable(_) => "Le corps de la requête n'a pas pu être lu".into(),
        ApiError::NotFound(Missing::User(_)) => "Utilisateur non trouvé".into(),
        ApiError::NotFound(Missing::Session | Missing::UserSession) => "Session introuvable ou expirée".into(),
        ApiError::NotFound(Missing::Path) => "Ressource introuvable".into(),
        ApiError::MethodNotAllowed { .. } => "Méthode non autorisée".into(),
        ApiError::Unauthorized => "Authentification requise".into(),
        ApiError::UnsupportedMediaType => {
            "Le corps de la requête doit être du JSON (Content-Type: application/json)".into()
        }
        ApiError::Unavailable(_) => "Service indisponible : la base Redis ne répond pas".into(),
        ApiError::InsufficientStorage(_) => "Stockage insuffisant : la base Redis est pleine".into(),
        ApiError::Internal(_) => "Erreur interne du serveur".into(),
        ApiError::NoUserIdLeft => "Plus aucun identifiant d'utilisateur disponible".into(),
        ApiError::PayloadTooLarge { what: TooLarge::Body, limit } => {
            format!("Requête trop volumineuse : le corps dépasse {limit} octets")
        }
        ApiError::PayloadTooLarge { what: TooLarge::SessionData, limit } => {
            format!("Requête trop volumineuse : les données de session dépassent {limit} octets")
        }
        ApiError::InvalidField { field, problem } => format!("Champ '{field}' invalide : {}", field_french(problem)),
        // Only the /v1 API raises these; an original endpoint never does.
        ApiError::UnknownField(_)
        | ApiError::InvalidParameter { .. }
        | ApiError::InvalidHeader { .. }
        | ApiError::IdempotencyKeyReused
        | ApiError::PreconditionFailed => "Requête invalide".into(),
    }
}

/// The `title` and `detail` of a `/v1` problem document.
pub fn problem(e: &ApiError) -> (&'static str, String) {
    match e {
        ApiError::InvalidJson(e) => ("Bad Request", format!("the request body is not valid JSON: {e}")),
        ApiError::NotAnObject => ("Bad Request", "the request body must be a JSON object".into()),
        ApiError::NamesRequired => ("Bad Request", "`nom` and `prenom` are required".into()),
        ApiError::SessionIdMissing => ("Bad Request", "`session_id` is required".into()),
        ApiError::SessionIdInvalid => ("Bad Request", "`session_id` is too long or has control characters".into()),
        ApiError::BodyMismatch(e) => ("Bad Request", format!("the request body does not fit this endpoint: {e}")),
        ApiError::BodyUnreadable(e) => ("Bad Request", format!("the request body could not be read: {e}")),
        ApiError::UnknownField(field) => ("Bad Request", format!("unknown field `{field}`")),
        ApiError::InvalidParameter { name, problem } => {
            ("Bad Request", format!("invalid query parameter `{name}`: {}", parameter_english(problem)))
        }
        ApiError::InvalidHeader { name, problem } => {
            ("Bad Request", format!("invalid header `{name}`: {}", header_english(problem)))
        }
        ApiError::Unauthorized => (
            "Unauthorized",
            "this service requires an `Authorization: Bearer <token>` header with its API token".into(),
        ),
        ApiError::NotFound(missing) => ("Not Found", missing_english(missing)),
        ApiError::PreconditionFailed => (
            "Precondition Failed",
            "the resource has changed since you read it: If-Match names none of its current ETags".into(),
        ),
        ApiError::InvalidField { field, problem } => {
            ("Unprocessable Content", format!("`{field}`: {}", field_english(problem)))
        }
        ApiError::IdempotencyKeyReused => (
            "Unprocessable Content",
            "this Idempotency-Key was used with a different request body; use a new key for a new request".into(),
        ),
        ApiError::PayloadTooLarge { what: TooLarge::Body, limit } => {
            ("Content Too Large", format!("the request body is larger than {limit} bytes"))
        }
        ApiError::PayloadTooLarge { what: TooLarge::SessionData, limit } => {
            ("Content Too Large", format!("session data is larger than {limit} bytes"))
        }
        ApiError::MethodNotAllowed { allow } => ("Method Not Allowed", format!("this resource allows: {allow}")),
        ApiError::UnsupportedMediaType => {
            ("Unsupported Media Type", "the request body must be JSON (Content-Type: application/json)".into())
        }
        ApiError::Unavailable(_) => ("Service Unavailable", "the Redis database cannot serve now; retry later".into()),
        ApiError::InsufficientStorage(_) => {
            ("Insufficient Storage", "the Redis database is full and refuses writes; reads still work".into())
        }
        ApiError::Internal(_) => ("Internal Server Error", "an internal error occurred".into()),
        ApiError::NoUserIdLeft => (
            "Insufficient Storage",
            format!(
                "no user id is left: ids stop at {}, the largest integer every JSON client reads exactly",
                crate::store::MAX_USER_ID
            ),
        ),
    }
}

fn field_english(problem: &FieldProblem) -> String {
    match problem {
        FieldProblem::Required => "is required".into(),
        FieldProblem::Empty => "must not be empty".into(),
        FieldProblem::NotAString => "must be a string".into(),
        FieldProblem::ControlCharacters => "must not contain control characters".into(),
        FieldProblem::TooLong(max) => format!("must be at most {max} characters"),
        FieldProblem::TooDeep(max) => format!("must not nest deeper than {max} levels"),
        FieldProblem::PositiveInteger => "must be a positive integer".into(),
        FieldProblem::OutOfRange { min, max } => format!("must be an integer from {min} to {max}"),
        FieldProblem::NoSuchUser(id) => format!("user {id} does not exist"),
    }
}

fn field_french(problem: &FieldProblem) -> String {
    match problem {
        FieldProblem::Required => "champ obligatoire".into(),
        FieldProblem::Empty => "ne doit pas être vide".into(),
        FieldProblem::NotAString => "doit être une chaîne de caractères".into(),
        FieldProblem::ControlCharacters => "ne doit pas contenir de caractères de contrôle".into(),
        FieldProblem::TooLong(max) => format!("{max} caractères au plus"),
        FieldProblem::TooDeep(max) => format!("{max} niveaux d'imbrication au plus"),
        FieldProblem::PositiveInteger => "doit être un entier positif".into(),
        FieldProblem::OutOfRange { min, max } => format!("doit être un entier de {min} à {max}"),
        FieldProblem::NoSuchUser(id) => format!("l'utilisateur {id} n'existe pas"),
    }
}

fn parameter_english(problem: &ParameterProblem) -> String {
    match problem {
        ParameterProblem::OutOfRange { min, max } => format!("must be an integer from {min} to {max}"),
        ParameterProblem::NotAPageCursor => "is not a cursor this API returned".into(),
        ParameterProblem::NotAReindexCursor => "must be the cursor a previous call returned".into(),
    }
}

fn header_english(problem: &HeaderProblem) -> String {
    match problem {
        HeaderProblem::Missing => "is required".into(),
        HeaderProblem::NotPrintableAscii => "must be printable ASCII".into(),
        HeaderProblem::Length(max) => format!("must be 1 to {max} characters long"),
    }
}

fn missing_english(missing: &Missing) -> String {
    match missing {
        Missing::Path => "no resource at this path".into(),
        Missing::User(Some(id)) => format!("user {id} does not exist"),
        Missing::User(None) => "no user has this id".into(),
        Missing::Session => "no live session has this id".into(),
        Missing::UserSession => "this user has no live session with this public id".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message, in both dialects, exactly.
    #[test]
    fn every_message_is_pinned() {
        let field = |problem| ApiError::InvalidField { field: "nom", problem };
        let cases: Vec<(ApiError, &str, &str, &str)> = vec![
            (
                ApiError::InvalidJson("EOF".into()),
                "Le corps de la requête n'est pas un JSON valide",
                "Bad Request",
                "the request body is not valid JSON: EOF",
            ),
            (
                ApiError::NotAnObject,
                "Le corps de la requête doit être un objet JSON",
                "Bad Request",
                "the request body must be a JSON object",
            ),
            (
                ApiError::NamesRequired,
                "Les champs 'nom' et 'prenom' sont obligatoires",
                "Bad Request",
                "`nom` and `prenom` are required",
            ),
            (ApiError::SessionIdMissing, "session_id manquant", "Bad Request", "`session_id` is required"),
            (
                ApiError::SessionIdInvalid,
                "session_id invalide : trop long ou avec des caractères de contrôle",
                "Bad Request",
                "`session_id` is too long or has control characters",
            ),
            (
                ApiError::BodyMismatch("x".into()),
                "Le corps de la requête ne convient pas",
                "Bad Request",
                "the request body does not fit this endpoint: x",
            ),
            (
                ApiError::BodyUnreadable("reset".into()),
                "Le corps de la requête n'a pas pu être lu",
                "Bad Request",
                "the request body could not be read: reset",
            ),
            (ApiError::UnknownField("nmo".into()), "Requête invalide", "Bad Request", "unknown field `nmo`"),
            (
                ApiError::InvalidParameter {
                    name: "limit",
                    problem: ParameterProblem::OutOfRange { min: 1, max: 1000 },
                },
                "Requête invalide",
                "Bad Request",
                "invalid query parameter `limit`: must be an integer from 1 to 1000",
            ),
            (
                ApiError::InvalidParameter { name: "cursor", problem: ParameterProblem::NotAPageCursor },
                "Requête invalide",
                "Bad Request",
                "invalid query parameter `cursor`: is not a cursor this API returned",
            ),
            (
                ApiError::InvalidParameter { name: "cursor", problem: ParameterProblem::NotAReindexCursor },
                "Requête invalide",
                "Bad Request",
                "invalid query parameter `cursor`: must be the cursor a previous call returned",
            ),
            (
                ApiError::InvalidHeader { name: "X-Session-Token", problem: HeaderProblem::Missing },
                "Requête invalide",
                "Bad Request",
                "invalid header `X-Session-Token`: is required",
            ),
            (
                ApiError::InvalidHeader { name: "Idempotency-Key", problem: HeaderProblem::NotPrintableAscii },
                "Requête invalide",
                "Bad Request",
                "invalid header `Idempotency-Key`: must be printable ASCII",
            ),
            (
                ApiError::InvalidHeader { name: "Idempotency-Key", problem: HeaderProblem::Length(255) },
                "Requête invalide",
                "Bad Request",
                "invalid header `Idempotency-Key`: must be 1 to 255 characters long",
            ),
            (
                ApiError::Unauthorized,
                "Authentification requise",
                "Unauthorized",
                "this service requires an `Authorization: Bearer <token>` header with its API token",
            ),
            (ApiError::NotFound(Missing::Path), "Ressource introuvable", "Not Found", "no resource at this path"),
            (
                ApiError::NotFound(Missing::User(Some(7))),
                "Utilisateur non trouvé",
                "Not Found",
                "user 7 does not exist",
            ),
            (ApiError::NotFound(Missing::User(None)), "Utilisateur non trouvé", "Not Found", "no user has this id"),
            (
                ApiError::NotFound(Missing::Session),
                "Session introuvable ou expirée",
                "Not Found",
                "no live session has this id",
            ),
            (
                ApiError::NotFound(Missing::UserSession),
                "Session introuvable ou expirée",
                "Not Found",
                "this user has no live session with this public id",
            ),
            (
                ApiError::MethodNotAllowed { allow: "GET, HEAD, OPTIONS".into() },
                "Méthode non autorisée",
                "Method Not Allowed",
                "this resource allows: GET, HEAD, OPTIONS",
            ),
            (
                ApiError::PayloadTooLarge { what: TooLarge::Body, limit: 65536 },
                "Requête trop volumineuse : le corps dépasse 65536 octets",
                "Content Too Large",
                "the request body is larger than 65536 bytes",
            ),
            (
                ApiError::PayloadTooLarge { what: TooLarge::SessionData, limit: 16384 },
                "Requête trop volumineuse : les données de session dépassent 16384 octets",
                "Content Too Large",
                "session data is larger than 16384 bytes",
            ),
            (
                ApiError::PreconditionFailed,
                "Requête invalide",
                "Precondition Failed",
                "the resource has changed since you read it: If-Match names none of its current ETags",
            ),
            (
                ApiError::UnsupportedMediaType,
                "Le corps de la requête doit être du JSON (Content-Type: application/json)",
                "Unsupported Media Type",
                "the request body must be JSON (Content-Type: application/json)",
            ),
            (
                field(FieldProblem::Required),
                "Champ 'nom' invalide : champ obligatoire",
                "Unprocessable Content",
                "`nom`: is required",
            ),
            (
                field(FieldProblem::Empty),
                "Champ 'nom' invalide : ne doit pas être vide",
                "Unprocessable Content",
                "`nom`: must not be empty",
            ),
            (
                field(FieldProblem::NotAString),
                "Champ 'nom' invalide : doit être une chaîne de caractères",
                "Unprocessable Content",
                "`nom`: must be a string",
            ),
            (
                field(FieldProblem::ControlCharacters),
                "Champ 'nom' invalide : ne doit pas contenir de caractères de contrôle",
                "Unprocessable Content",
                "`nom`: must not contain control characters",
            ),
            (
                field(FieldProblem::TooLong(200)),
                "Champ 'nom' invalide : 200 caractères au plus",
                "Unprocessable Content",
                "`nom`: must be at most 200 characters",
            ),
            (
                field(FieldProblem::TooDeep(32)),
                "Champ 'nom' invalide : 32 niveaux d'imbrication au plus",
                "Unprocessable Content",
                "`nom`: must not nest deeper than 32 levels",
            ),
            (
                field(FieldProblem::PositiveInteger),
                "Champ 'nom' invalide : doit être un entier positif",
                "Unprocessable Content",
                "`nom`: must be a positive integer",
            ),
            (
                field(FieldProblem::OutOfRange { min: 1, max: 60 }),
                "Champ 'nom' invalide : doit être un entier de 1 à 60",
                "Unprocessable Content",
                "`nom`: must be an integer from 1 to 60",
            ),
            (
                field(FieldProblem::NoSuchUser(9)),
                "Champ 'nom' invalide : l'utilisateur 9 n'existe pas",
                "Unprocessable Content",
                "`nom`: user 9 does not exist",
            ),
            (
                ApiError::IdempotencyKeyReused,
                "Requête invalide",
                "Unprocessable Content",
                "this Idempotency-Key was used with a different request body; use a new key for a new request",
            ),
            (
                ApiError::Unavailable("refused".into()),
                "Service indisponible : la base Redis ne répond pas",
                "Service Unavailable",
                "the Redis database cannot serve now; retry later",
            ),
            (
                ApiError::InsufficientStorage("OOM".into()),
                "Stockage insuffisant : la base Redis est pleine",
                "Insufficient Storage",
                "the Redis database is full and refuses writes; reads still work",
            ),
            (
                ApiError::NoUserIdLeft,
                "Plus aucun identifiant d'utilisateur disponible",
                "Insufficient Storage",
                "no user id is left: ids stop at 9007199254740991, the largest integer every JSON client reads exactly",
            ),
            (
                ApiError::Internal("bug".into()),
                "Erreur interne du serveur",
                "Internal Server Error",
                "an internal error occurred",
            ),
        ];
        for (error, french, title, detail) in cases {
            assert_eq!(original(&error), french, "{error:?}");
            assert_eq!(problem(&error), (title, detail.to_owned()), "{error:?}");
        }
    }
}
