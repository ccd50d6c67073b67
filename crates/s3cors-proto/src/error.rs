//! S3 error codes and the XML error document.
//!
//! Implements <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>: every error is
//! `<Error><Code/><Message/>[extra elements]<RequestId/><HostId/></Error>` with the status of its code.

use std::borrow::Cow;
use std::fmt;

use crate::xml::XmlWriter;

/// The S3 error codes s3cors answers with. Each knows its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum S3ErrorCode {
    AccessDenied,
    AccessForbidden,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadDigest,
    BadRequest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    IllegalLocationConstraintException,
    IncompleteBody,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidBucketName,
    InvalidBucketOwnerAWSAccountID,
    InvalidDigest,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPolicyDocument,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidStorageClass,
    InvalidURI,
    KeyTooLongError,
    MalformedACLError,
    MalformedPOSTRequest,
    MalformedPolicy,
    MalformedXML,
    MaxMessageLengthExceeded,
    MaxPostPreDataLengthExceededError,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    MissingRequestBodyError,
    MissingSecurityHeader,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchKey,
    NoSuchUpload,
    NotImplemented,
    PreconditionFailed,
    RequestHeaderSectionTooLarge,
    RequestTimeout,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
}

impl S3ErrorCode {
    /// The code as it appears in `<Code>`.
    pub fn as_str(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "AccessDenied",
            AccessForbidden => "AccessForbidden",
            AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            BadDigest => "BadDigest",
            BadRequest => "BadRequest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            EntityTooLarge => "EntityTooLarge",
            EntityTooSmall => "EntityTooSmall",
            IllegalLocationConstraintException => "IllegalLocationConstraintException",
            IncompleteBody => "IncompleteBody",
            InternalError => "InternalError",
            InvalidAccessKeyId => "InvalidAccessKeyId",
            InvalidArgument => "InvalidArgument",
            InvalidBucketName => "InvalidBucketName",
            InvalidBucketOwnerAWSAccountID => "InvalidBucketOwnerAWSAccountID",
            InvalidDigest => "InvalidDigest",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidPart => "InvalidPart",
            InvalidPolicyDocument => "InvalidPolicyDocument",
            InvalidPartOrder => "InvalidPartOrder",
            InvalidRange => "InvalidRange",
            InvalidRequest => "InvalidRequest",
            InvalidStorageClass => "InvalidStorageClass",
            InvalidURI => "InvalidURI",
            KeyTooLongError => "KeyTooLongError",
            MalformedACLError => "MalformedACLError",
            MalformedPOSTRequest => "MalformedPOSTRequest",
            MalformedPolicy => "MalformedPolicy",
            MalformedXML => "MalformedXML",
            MaxMessageLengthExceeded => "MaxMessageLengthExceeded",
            MaxPostPreDataLengthExceededError => "MaxPostPreDataLengthExceededError",
            MetadataTooLarge => "MetadataTooLarge",
            MethodNotAllowed => "MethodNotAllowed",
            MissingContentLength => "MissingContentLength",
            MissingRequestBodyError => "MissingRequestBodyError",
            MissingSecurityHeader => "MissingSecurityHeader",
            NoSuchBucket => "NoSuchBucket",
            NoSuchBucketPolicy => "NoSuchBucketPolicy",
            NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            NoSuchKey => "NoSuchKey",
            NoSuchUpload => "NoSuchUpload",
            NotImplemented => "NotImplemented",
            PreconditionFailed => "PreconditionFailed",
            RequestHeaderSectionTooLarge => "RequestHeaderSectionTooLarge",
            RequestTimeout => "RequestTimeout",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
        }
    }

    /// The HTTP status S3 answers this code with.
    pub fn status(self) -> u16 {
        use S3ErrorCode::*;
        match self {
            AccessDenied
            | AccessForbidden
            | InvalidAccessKeyId
            | RequestTimeTooSkewed
            | SignatureDoesNotMatch => 403,
            NoSuchBucket | NoSuchBucketPolicy | NoSuchCORSConfiguration | NoSuchKey | NoSuchUpload => 404,
            MethodNotAllowed => 405,
            BucketAlreadyExists | BucketAlreadyOwnedByYou | BucketNotEmpty => 409,
            MissingContentLength => 411,
            PreconditionFailed => 412,
            InvalidRange => 416,
            InternalError => 500,
            NotImplemented => 501,
            AuthorizationHeaderMalformed
            | AuthorizationQueryParametersError
            | BadDigest
            | BadRequest
            | EntityTooLarge
            | EntityTooSmall
            | IllegalLocationConstraintException
            | IncompleteBody
            | InvalidArgument
            | InvalidBucketName
            | InvalidBucketOwnerAWSAccountID
            | InvalidDigest
            | InvalidLocationConstraint
            | InvalidPart
            | InvalidPolicyDocument
            | InvalidPartOrder
            | InvalidRequest
            | InvalidStorageClass
            | InvalidURI
            | KeyTooLongError
            | MalformedACLError
            | MalformedPOSTRequest
            | MalformedPolicy
            | MaxPostPreDataLengthExceededError
            | MalformedXML
            | MaxMessageLengthExceeded
            | MetadataTooLarge
            | MissingRequestBodyError
            | MissingSecurityHeader
            | RequestHeaderSectionTooLarge
            | RequestTimeout
            | XAmzContentSHA256Mismatch => 400,
        }
    }

    /// S3's usual message for this code, used when the caller gives none.
    pub fn default_message(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "Access Denied",
            AccessForbidden => "CORSResponse: This CORS request is not allowed.",
            AuthorizationHeaderMalformed => "The authorization header is malformed.",
            AuthorizationQueryParametersError => "Error parsing the X-Amz-Credential parameter.",
            BadDigest => "The Content-MD5 you specified did not match what we received.",
            BadRequest => "Bad Request",
            BucketAlreadyExists => {
                "The requested bucket name is not available. The bucket namespace is shared by all users \
                 of the system. Please select a different name and try again."
            }
            BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            BucketNotEmpty => "The bucket you tried to delete is not empty",
            EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            EntityTooSmall => "Your proposed upload is smaller than the minimum allowed object size.",
            IllegalLocationConstraintException => {
                "The unspecified location constraint is incompatible for the region specific endpoint \
                 this request was sent to."
            }
            IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header"
            }
            InternalError => "We encountered an internal error. Please try again.",
            InvalidAccessKeyId => "The AWS Access Key Id you provided does not exist in our records.",
            InvalidArgument => "Invalid Argument",
            InvalidBucketName => "The specified bucket is not valid.",
            InvalidBucketOwnerAWSAccountID => {
                "The value of the expected bucket owner parameter must be an AWS Account ID..."
            }
            InvalidDigest => "The Content-MD5 you specified was invalid.",
            InvalidLocationConstraint => "The specified location-constraint is not valid",
            InvalidPart => {
                "One or more of the specified parts could not be found.  The part may not have been \
                 uploaded, or the specified entity tag may not match the part's entity tag."
            }
            InvalidPolicyDocument => {
                "The content of the form does not meet the conditions specified in the policy document."
            }
            InvalidPartOrder => {
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            }
            InvalidRange => "The requested range is not satisfiable",
            InvalidRequest => "Invalid Request",
            InvalidStorageClass => "The storage class you specified is not valid",
            InvalidURI => "Couldn't parse the specified URI.",
            KeyTooLongError => "Your key is too long",
            MalformedACLError => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            MalformedPolicy => "Policies must be valid JSON and the first byte must be '{'",
            MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            MaxMessageLengthExceeded => "Your request was too big.",
            MaxPostPreDataLengthExceededError => {
                "Your POST request fields preceeding the upload file was too large."
            }
            MalformedPOSTRequest => "The body of your POST request is not well-formed multipart/form-data.",
            MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size",
            MethodNotAllowed => "The specified method is not allowed against this resource.",
            MissingContentLength => "You must provide the Content-Length HTTP header.",
            MissingRequestBodyError => "Request Body is empty",
            MissingSecurityHeader => "Your request was missing a required header",
            NoSuchBucket => "The specified bucket does not exist",
            NoSuchBucketPolicy => "The bucket policy does not exist",
            NoSuchCORSConfiguration => "The CORS configuration does not exist",
            NoSuchKey => "The specified key does not exist.",
            NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload may \
                 have been aborted or completed."
            }
            NotImplemented => "A header you provided implies functionality that is not implemented",
            PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            RequestHeaderSectionTooLarge => "Your request header section exceeds the maximum allowed size.",
            RequestTimeout => {
                "Your socket connection to the server was not read from or written to within the timeout \
                 period. Idle connections will be closed."
            }
            RequestTimeTooSkewed => {
                "The difference between the request time and the current time is too large."
            }
            XAmzContentSHA256Mismatch => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            }
            SignatureDoesNotMatch => {
                "The request signature we calculated does not match the signature you provided. Check \
                 your key and signing method."
            }
        }
    }
}

impl fmt::Display for S3ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An S3 error: a code, a message and the extra elements S3 puts between `Message` and `RequestId`.
///
/// Boxed so that `Result<T, S3Error>` stays one pointer wide.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    code: S3ErrorCode,
    message: Cow<'static, str>,
    extra: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with the code's usual message.
    pub fn new(code: S3ErrorCode) -> Self {
        Self::with_message(code, code.default_message())
    }

    /// An error with a specific message.
    pub fn with_message(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        S3Error(Box::new(Inner {
            code,
            message: message.into(),
            extra: Vec::new(),
            headers: Vec::new(),
        }))
    }

    /// Adds an element after `Message` (e.g. `BucketName`, `Key`, `ArgumentName`).
    #[must_use]
    pub fn with_element(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.extra.push((name, value.into()));
        self
    }

    /// Adds a response header that goes with this error (e.g. `Last-Modified` on a 304).
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.headers.push((name, value.into()));
        self
    }

    /// `NoSuchBucket` naming the bucket.
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchBucket).with_element("BucketName", bucket)
    }

    /// `NoSuchKey` naming the key.
    pub fn no_such_key(key: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchKey).with_element("Key", key)
    }

    /// `InvalidArgument` naming the argument and its value, as S3 does.
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>, name: &str, value: &str) -> Self {
        Self::with_message(S3ErrorCode::InvalidArgument, message)
            .with_element("ArgumentName", name)
            .with_element("ArgumentValue", value)
    }

    /// `InternalError`, for failures of the machine rather than of the request.
    pub fn internal() -> Self {
        Self::new(S3ErrorCode::InternalError)
    }

    /// The error code.
    pub fn code(&self) -> S3ErrorCode {
        self.0.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.0.code.status()
    }

    /// Extra response headers.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.0.headers
    }

    /// The XML error document, with the request and host ids.
    pub fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut w = XmlWriter::new();
        w.start("Error");
        w.elem("Code", self.0.code.as_str());
        w.elem_plain_quotes("Message", &self.0.message);
        for (name, value) in &self.0.extra {
            w.elem(name, value);
        }
        w.elem("RequestId", request_id);
        w.elem("HostId", host_id);
        w.end("Error");
        w.finish()
    }
}

impl fmt::Debug for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl std::error::Error for S3Error {}

impl From<S3ErrorCode> for S3Error {
    fn from(code: S3ErrorCode) -> Self {
        S3Error::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_document_puts_extra_elements_between_message_and_request_id() {
        let xml = S3Error::no_such_bucket("photos").to_xml("REQ1", "HOST1");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>\
             <Message>The specified bucket does not exist</Message><BucketName>photos</BucketName>\
             <RequestId>REQ1</RequestId><HostId>HOST1</HostId></Error>"
        );
    }

    #[test]
    fn statuses_follow_s3() {
        assert_eq!(S3ErrorCode::NoSuchKey.status(), 404);
        assert_eq!(S3ErrorCode::BucketNotEmpty.status(), 409);
        assert_eq!(S3ErrorCode::InvalidRange.status(), 416);
        assert_eq!(S3ErrorCode::NotImplemented.status(), 501);
        assert_eq!(S3ErrorCode::MissingContentLength.status(), 411);
    }
}
