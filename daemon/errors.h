/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Stable D-Bus error names (docs/org.avmigrate.Migrate1.xml). */
#define AVM_ERROR_PREFIX "org.avmigrate.Migrate1.Error."
#define AVM_ERROR_BUSY AVM_ERROR_PREFIX "Busy"
#define AVM_ERROR_NOTHING_TO_DO AVM_ERROR_PREFIX "NothingToDo"
#define AVM_ERROR_NOT_ELIGIBLE AVM_ERROR_PREFIX "NotEligible"
#define AVM_ERROR_OUTSIDE_WINDOW AVM_ERROR_PREFIX "OutsideWindow"
#define AVM_ERROR_NO_REPLACEMENT AVM_ERROR_PREFIX "NoReplacement"
#define AVM_ERROR_INVALID_ARGUMENT AVM_ERROR_PREFIX "InvalidArgument"
#define AVM_ERROR_SIGNATURE_INVALID AVM_ERROR_PREFIX "SignatureInvalid"
#define AVM_ERROR_DOWNLOAD_FAILED AVM_ERROR_PREFIX "DownloadFailed"
#define AVM_ERROR_STEP_FAILED AVM_ERROR_PREFIX "StepFailed"
#define AVM_ERROR_PERMISSION_DENIED AVM_ERROR_PREFIX "PermissionDenied"
#define AVM_ERROR_NOT_SUPPORTED AVM_ERROR_PREFIX "NotSupported"
#define AVM_ERROR_NOT_FOUND AVM_ERROR_PREFIX "NotFound"
