//! Avatars of users, groups, projects and topics, as GitLab has them: an image of at most
//! 200 KiB in one of the formats browsers show (recognised by its first bytes, not by its
//! name), stored in the object store and served at `/uploads/-/system/<model>/avatar/<id>/<file>`.
//! Who may change one is who may change its owner: the user themselves or an administrator,
//! a group's or project's maintainers of settings, administrators for topics. Who may see one
//! is who may see its owner.

pub use gantry_db::manage::avatars::Avatar;
use gantry_db::manage::avatars::{self, AvatarOwner};
use gantry_db::manage::{namespaces, projects, topics, users};
use gantry_types::{NamespaceId, ProjectId, TopicId, UserId};

use crate::policy::{
    GroupAction, ProjectAction, authorize_group, authorize_project, owns_or_administers, require_admin,
};
use crate::{Actor, CoreError, CoreResult, NamespaceKind};

/// The largest avatar image (GitLab's limit).
pub const MAX_AVATAR_BYTES: usize = 200 * 1024;
/// The longest file name an avatar keeps.
const MAX_FILENAME_CHARS: usize = 100;

/// The formats an avatar may have, by the extension GitLab names them with.
pub const AVATAR_FORMATS: &str = "png, jpg, jpeg, gif, bmp, tiff, ico, webp";

/// Whose avatar a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarSubject {
    User(UserId),
    Group(NamespaceId),
    Project(ProjectId),
    Topic(TopicId),
}

/// An uploaded image, not yet checked.
#[derive(Debug, Clone)]
pub struct AvatarUpload {
    /// The name the client gave the file.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// An avatar read back for serving.
#[derive(Debug)]
pub struct AvatarImage {
    pub bytes: Vec<u8>,
    /// The image's media type, from its content.
    pub content_type: &'static str,
    /// Its digest: an entity tag that changes with the image.
    pub digest: String,
}

/// The image format of `bytes`, by its signature: the extension and the media type.
pub fn image_format(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let starts = |prefix: &[u8]| bytes.starts_with(prefix);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some(("png", "image/png"))
    } else if starts(b"\xff\xd8\xff") {
        Some(("jpg", "image/jpeg"))
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(("gif", "image/gif"))
    } else if starts(b"BM") && bytes.len() > 14 {
        Some(("bmp", "image/bmp"))
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(("tiff", "image/tiff"))
    } else if starts(b"\0\0\x01\0") && bytes.len() > 6 {
        Some(("ico", "image/vnd.microsoft.icon"))
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(("webp", "image/webp"))
    } else {
        None
    }
}

/// The file name an avatar is kept (and addressed) under: the upload's base name with
/// anything but letters, digits, `.`, `-` and `_` replaced, ending in the extension of the
/// image's real format.
pub fn avatar_filename(uploaded: &str, extension: &str) -> String {
    let base = uploaded.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, given) = match base.rsplit_once('.') {
        Some((stem, given)) => (stem, Some(given.to_ascii_lowercase())),
        None => (base, None),
    };
    let mut clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' })
        .take(MAX_FILENAME_CHARS)
        .collect();
    if clean.trim_matches('_').is_empty() {
        clean = "avatar".to_owned();
    }
    // `jpeg` and `jpg` (and `tif` and `tiff`) are one format: keep the client's spelling.
    let extension = match given.as_deref() {
        Some(given)
            if given == extension || (extension, given) == ("jpg", "jpeg") || (extension, given) == ("tiff", "tif") =>
        {
            given
        }
        _ => extension,
    };
    format!("{clean}.{extension}")
}

/// Checks an upload, size then format, and names the file it will be kept as (creating
/// routes check before they create anything).
pub fn check_avatar_upload(upload: &AvatarUpload) -> CoreResult<(String, &'static str)> {
    if upload.bytes.len() > MAX_AVATAR_BYTES {
        return Err(CoreError::invalid("avatar", "is too big (should be at most 200 KiB)"));
    }
    let (extension, _) = image_format(&upload.bytes).ok_or_else(|| {
        CoreError::invalid(
            "avatar",
            format!(
                "file format is not supported. Please try one of the following supported formats: {AVATAR_FORMATS}"
            ),
        )
    })?;
    Ok((avatar_filename(&upload.filename, extension), extension))
}

impl super::Manage<'_> {
    /// Sets or (with `None`) removes the avatar of `subject`, for those who may change it.
    pub async fn set_avatar(
        &self,
        actor: &Actor,
        subject: AvatarSubject,
        upload: Option<&AvatarUpload>,
    ) -> CoreResult<Option<Avatar>> {
        let owner = self.avatar_owner(actor, subject).await?;
        let avatar = match upload {
            None => None,
            Some(upload) => {
                let (filename, _) = check_avatar_upload(upload)?;
                let stored = self.blobs.put_bytes(&upload.bytes).await.map_err(|e| CoreError::Internal(Box::new(e)))?;
                Some(Avatar { digest: stored.digest.as_str().to_owned(), filename })
            }
        };
        let mut conn = self.db.conn().await?;
        if !avatars::set_avatar(&mut conn, owner, avatar.as_ref()).await? {
            return Err(CoreError::NotFound(subject_name(subject)));
        }
        Ok(avatar)
    }

    /// Checks that `actor` may change `subject`'s avatar: its owner's editors (see the
    /// module's comment). Forms check this before they read what they were sent.
    pub async fn authorize_avatar_change(&self, actor: &Actor, subject: AvatarSubject) -> CoreResult<()> {
        self.avatar_owner(actor, subject).await.map(|_| ())
    }

    async fn avatar_owner(&self, actor: &Actor, subject: AvatarSubject) -> CoreResult<AvatarOwner> {
        let mut conn = self.db.conn().await?;
        match subject {
            AvatarSubject::User(id) => {
                let user = actor.require_user()?;
                if !owns_or_administers(user, Some(id)) {
                    return Err(CoreError::NotFound("user"));
                }
                users::find_user_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("user"))?;
                Ok(AvatarOwner::User(id))
            }
            AvatarSubject::Group(id) => {
                let group = namespaces::find_namespace_by_id(&mut conn, id)
                    .await?
                    .filter(|n| n.kind == NamespaceKind::Group)
                    .ok_or(CoreError::NotFound("group"))?;
                authorize_group(&mut conn, actor, &group, GroupAction::Update).await?;
                Ok(AvatarOwner::Namespace(id))
            }
            AvatarSubject::Project(id) => {
                let project =
                    projects::find_project_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("project"))?;
                authorize_project(&mut conn, actor, &project, ProjectAction::Update).await?;
                Ok(AvatarOwner::Project(id))
            }
            AvatarSubject::Topic(id) => {
                require_admin(actor)?;
                topics::find_topic(&mut conn, id).await?.ok_or(CoreError::NotFound("topic"))?;
                Ok(AvatarOwner::Topic(id))
            }
        }
    }

    /// The avatar image of `subject` named `filename`, for those who may see its owner.
    pub async fn avatar_image(&self, actor: &Actor, subject: AvatarSubject, filename: &str) -> CoreResult<AvatarImage> {
        let mut conn = self.db.conn().await?;
        let avatar = match subject {
            AvatarSubject::User(id) => users::find_user_by_id(&mut conn, id).await?.and_then(|u| u.avatar),
            AvatarSubject::Group(id) => {
                let group = namespaces::find_namespace_by_id(&mut conn, id)
                    .await?
                    .filter(|n| n.kind == NamespaceKind::Group)
                    .ok_or(CoreError::NotFound("avatar"))?;
                authorize_group(&mut conn, actor, &group, GroupAction::Read).await?;
                group.avatar
            }
            AvatarSubject::Project(id) => {
                let project =
                    projects::find_project_by_id(&mut conn, id).await?.ok_or(CoreError::NotFound("avatar"))?;
                authorize_project(&mut conn, actor, &project, ProjectAction::Read).await?;
                project.avatar
            }
            AvatarSubject::Topic(id) => topics::find_topic(&mut conn, id).await?.and_then(|t| t.avatar),
        };
        drop(conn);
        let avatar = avatar.filter(|a| a.filename == filename).ok_or(CoreError::NotFound("avatar"))?;
        let digest = gantry_blob::Digest::parse(&avatar.digest).map_err(|e| CoreError::Internal(Box::new(e)))?;
        let bytes = self.blobs.read(&digest).await.map_err(|_| CoreError::NotFound("avatar"))?;
        let (_, content_type) = image_format(&bytes).ok_or(CoreError::NotFound("avatar"))?;
        Ok(AvatarImage { bytes, content_type, digest: avatar.digest })
    }
}

fn subject_name(subject: AvatarSubject) -> &'static str {
    match subject {
        AvatarSubject::User(_) => "user",
        AvatarSubject::Group(_) => "group",
        AvatarSubject::Project(_) => "project",
        AvatarSubject::Topic(_) => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_known_by_their_first_bytes() {
        assert_eq!(image_format(b"\x89PNG\r\n\x1a\nrest"), Some(("png", "image/png")));
        assert_eq!(image_format(b"\xff\xd8\xff\xe0"), Some(("jpg", "image/jpeg")));
        assert_eq!(image_format(b"GIF89a..."), Some(("gif", "image/gif")));
        assert_eq!(image_format(b"RIFF\0\0\0\0WEBPVP8 "), Some(("webp", "image/webp")));
        assert_eq!(image_format(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None, "SVG can carry scripts");
        assert_eq!(image_format(b"hello"), None);
    }

    #[test]
    fn file_names_are_cleaned_and_end_in_the_real_format() {
        assert_eq!(avatar_filename("avatar.png", "png"), "avatar.png");
        assert_eq!(avatar_filename("Photo.JPEG", "jpg"), "Photo.jpeg");
        assert_eq!(avatar_filename("../../etc/passwd", "png"), "passwd.png");
        assert_eq!(avatar_filename("me <script>.gif", "png"), "me__script_.png");
        assert_eq!(avatar_filename("", "webp"), "avatar.webp");
        assert_eq!(avatar_filename("....", "gif"), "avatar.gif");
    }

    #[test]
    fn uploads_are_checked_for_size_and_format() {
        let upload = |bytes: Vec<u8>| AvatarUpload { filename: "a.png".into(), bytes };
        let big = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![0; MAX_AVATAR_BYTES]].concat();
        assert!(check_avatar_upload(&upload(big)).unwrap_err().to_string().contains("too big"));
        assert!(check_avatar_upload(&upload(b"text".to_vec())).unwrap_err().to_string().contains("not supported"));
        assert_eq!(check_avatar_upload(&upload(b"GIF89a1234".to_vec())).unwrap().0, "a.gif");
    }
}
