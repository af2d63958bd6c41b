"""The two Common Cartridge versions we write, as data (spec §4.3).

Canvas writes 1.1 type strings and namespaces even into a 1.3 package; we use each
version's own, so a package validates against the XSD of the version it declares.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    version: str
    cp_ns: str
    lom_ns: str  # resource-level LOM
    lomimscc_ns: str  # manifest-level LOM
    schema_location: str
    lor: str
    assessment: str
    discussion: str
    discussion_ns: str
    discussion_location: str
    weblink: str
    weblink_ns: str
    weblink_location: str
    role_source: str
    assignment_extension: bool  # CC 1.3 assignment resource (assignment_xmlv1p0)

    @property
    def nsmap(self) -> dict[str | None, str]:
        return {None: self.cp_ns, "lom": self.lom_ns, "lomimscc": self.lomimscc_ns}


def _profile(v: str, version: str, *, role_source: str, assignment_extension: bool) -> Profile:
    cp = f"http://www.imsglobal.org/xsd/imscc{v}/imscp_v1p1"
    lom = f"http://ltsc.ieee.org/xsd/imscc{v}/LOM/resource"
    lomimscc = f"http://ltsc.ieee.org/xsd/imscc{v}/LOM/manifest"
    profile_dir = f"http://www.imsglobal.org/profile/cc/cc{v}"
    dt_ver, wl_ver = f"imsdt_{v}", f"imswl_{v}"
    return Profile(
        version=version,
        cp_ns=cp,
        lom_ns=lom,
        lomimscc_ns=lomimscc,
        schema_location=" ".join(
            [
                cp,
                f"{profile_dir}/cc{v}_imscp_v1p2_v1p0.xsd",
                lom,
                f"{profile_dir}/LOM/cc{v}_lomresource_v1p0.xsd",
                lomimscc,
                f"{profile_dir}/LOM/cc{v}_lommanifest_v1p0.xsd",
            ]
        ),
        lor=f"associatedcontent/imscc_xml{v}/learning-application-resource",
        assessment=f"imsqti_xmlv1p2/imscc_xml{v}/assessment",
        discussion=f"imsdt_xml{v}",
        discussion_ns=f"http://www.imsglobal.org/xsd/imscc{v}/{dt_ver}",
        discussion_location=f"{profile_dir}/cc{v}_{dt_ver}.xsd",
        weblink=f"imswl_xml{v}",
        weblink_ns=f"http://www.imsglobal.org/xsd/imscc{v}/{wl_ver}",
        weblink_location=f"{profile_dir}/cc{v}_{wl_ver}.xsd",
        role_source=role_source,
        assignment_extension=assignment_extension,
    )


PROFILES = {
    "1.1.0": _profile("v1p1", "1.1.0", role_source="IMSGLC_CC_Rolesv1p1", assignment_extension=False),
    "1.3.0": _profile("v1p3", "1.3.0", role_source="IMSGLC_CC_Rolesv1p3", assignment_extension=True),
}
VERSION_ALIASES = {"1.1": "1.1.0", "1.3": "1.3.0"}

ASSIGNMENT_NS = "http://www.imsglobal.org/xsd/imscc_extensions/assignment"
ASSIGNMENT_LOCATION = f"{ASSIGNMENT_NS} http://www.imsglobal.org/profile/cc/cc_extensions/cc_extresource_assignmentv1p0_v1p0.xsd"


def profile_for(version: str) -> Profile:
    """The profile for ``"1.1.0"``/``"1.3.0"`` (``"1.1"``/``"1.3"`` accepted, as the API takes them)."""
    key = VERSION_ALIASES.get(version, version)
    if key not in PROFILES:
        raise ValueError(f"unsupported Common Cartridge version {version!r} (use 1.1.0 or 1.3.0)")
    return PROFILES[key]
