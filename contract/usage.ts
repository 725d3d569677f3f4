// A little of what a web or mobile client writes against the types that openapi-typescript
// generates from openapi.yaml; `tsc --noEmit` must accept it (scripts/contract.sh).
import type { components, paths } from "./schema";

type ProfileInput = components["schemas"]["ProfileInput"];
type PutProfile = paths["/api/v1/me/profile"]["put"];

export const profile: PutProfile["requestBody"]["content"]["application/json"] = {
  display_name: "Sam Rivera",
  profession: "occupational_therapy",
  populations: ["older_adults", "neurology"],
  settings: ["community", "home_visits"],
  location: { latitude: -32.2569, longitude: 148.6011 },
  years_experience: 4,
  languages: ["en", "no"],
  timezone: "Etc/GMT-0",
  meeting_modes: ["virtual", "in_person"],
  works_alone: true,
  seeking: { peers: true, mentor: true },
  mentoring: { offering: false, capacity: 0 },
};

export function displayName(
  saved: PutProfile["responses"][200]["content"]["application/json"],
): string {
  return saved.display_name;
}

export const kind: NonNullable<
  paths["/api/v1/me/suggestions"]["get"]["parameters"]["query"]
>["kind"] = "mentor";

// The controlled lists are unions of their codes, not any string.
// @ts-expect-error "xx" is not a language code
export const notALanguage: ProfileInput["languages"] = ["xx"];
// @ts-expect-error "Mars/Olympus" is not a time zone
export const notAZone: ProfileInput["timezone"] = "Mars/Olympus";
