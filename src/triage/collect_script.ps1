# ccaudit collection script, written by `ccaudit collect --script` (ccaudit {{VERSION}}).
#
# It READS the tenant's Contact Center voice prerequisites and writes them to one JSON file
# (-OutFile) for `ccaudit audit --snapshot FILE`. It changes nothing: it calls only Connect-*,
# Get-*, Invoke-MgGraphRequest -Method GET and Invoke-RestMethod -Method Get, and writes only
# -OutFile. A section that cannot be read is recorded in the file with its error; the script
# goes on with the next one.
#
# Run it in Windows PowerShell 5.1 or PowerShell 7, signed in as an admin who can read Teams,
# Entra ID, Azure and Dynamics 365 (Global Reader plus Teams Administrator is enough for most
# sections). Modules used: MicrosoftTeams, Microsoft.Graph.Authentication,
# ExchangeOnlineManagement (Connect-IPPSSession) and Az.Accounts (tokens for Azure and
# Dataverse).
#
# The file holds tenant configuration (names, licenses, phone numbers), never passwords or
# tokens. Send it to the person auditing the tenant.

param(
    [string]$OutFile = 'ccaudit-collection.json'
)

$ErrorActionPreference = 'Stop'

$CcaudVersion = {{VERSION_STR}}
$Agents = @({{AGENTS}})
$DataverseUrl = {{DATAVERSE_URL}}
$Graph = 'https://graph.microsoft.com'
$Arm = 'https://management.azure.com'

$Sections = [ordered]@{}
$ConnectErrors = @{}

# The error of a failed read, as the file records it: the message, the HTTP status when the
# service answered, and PowerShell's error id.
function Get-CcaudError($ErrorRecord) {
    $out = [ordered]@{ message = "$($ErrorRecord.Exception.Message)" }
    try {
        $response = $ErrorRecord.Exception.Response
        if ($null -ne $response -and $null -ne $response.StatusCode) {
            $out['status'] = [int]$response.StatusCode
        }
    } catch { }
    if ($ErrorRecord.FullyQualifiedErrorId) {
        $out['code'] = "$($ErrorRecord.FullyQualifiedErrorId)"
    }
    $out
}

# Reads one section: what $Read returns, or the error that stopped it (then the script goes on).
# A section read from another section's result ($DependsOn) is not read when that one failed.
function Get-CcaudSection([string]$Fact, [string]$Service, [string]$Command, [scriptblock]$Read, [string]$DependsOn = '') {
    Write-Host "ccaudit: reading $Fact ($Command)"
    if ($ConnectErrors.ContainsKey($Service)) {
        $Sections[$Fact] = [ordered]@{ command = $Command; error = $ConnectErrors[$Service] }
        return
    }
    if ($DependsOn -and -not ($Sections.Contains($DependsOn) -and $Sections[$DependsOn].Contains('data'))) {
        $Sections[$Fact] = [ordered]@{ command = $Command; error = [ordered]@{
            code = 'DependencyUnavailable'; message = "not read: $DependsOn is unavailable" } }
        return
    }
    try {
        $data = & $Read
        $Sections[$Fact] = [ordered]@{ command = $Command; data = $data }
    } catch {
        Write-Host "ccaudit: could not read ${Fact}: $($_.Exception.Message)"
        $Sections[$Fact] = [ordered]@{ command = $Command; error = (Get-CcaudError $_) }
    }
}

# Windows PowerShell 5.1 writes enum values as numbers and dates as \/Date(ms)\/: each record's
# own enum and date properties are written as their names and ISO 8601 text instead. The list
# is emitted as one object (`, $out`): one record stays a list, and none an empty list.
function ConvertTo-CcaudRecord($Records) {
    $out = @()
    foreach ($record in @($Records)) {
        if ($null -eq $record) { continue }
        $plain = [ordered]@{}
        foreach ($property in $record.PSObject.Properties) {
            $value = $property.Value
            if ($value -is [enum]) {
                $value = $value.ToString()
            } elseif ($value -is [datetime]) {
                $value = $value.ToUniversalTime().ToString('o')
            } elseif ($value -is [System.Collections.IEnumerable] -and $value -isnot [string] -and $value -isnot [System.Collections.IDictionary]) {
                $items = @()
                foreach ($item in $value) {
                    if ($item -is [enum]) { $items += $item.ToString() } else { $items += $item }
                }
                $value = $items
            }
            $plain[$property.Name] = $value
        }
        $out += [pscustomobject]$plain
    }
    , $out
}

# A Graph collection, every page: {"value": [...]} as the REST API returns it.
function Get-CcaudGraphList([string]$Path) {
    $all = @()
    $uri = "$Graph$Path"
    while ($uri) {
        $page = Invoke-MgGraphRequest -Method GET -Uri $uri -OutputType PSObject
        $all += @($page.value)
        $uri = $page.'@odata.nextLink'
    }
    [ordered]@{ value = $all }
}

# An Azure Resource Manager or Dataverse collection, every page.
function Get-CcaudRestList([string]$Uri, [string]$Token) {
    $all = @()
    $headers = @{ Authorization = "Bearer $Token"; Accept = 'application/json' }
    while ($Uri) {
        $page = Invoke-RestMethod -Method Get -Uri $Uri -Headers $headers
        $all += @($page.value)
        $Uri = $page.'@odata.nextLink'
        if (-not $Uri) { $Uri = $page.nextLink }
    }
    [ordered]@{ value = $all }
}

# An access token of the signed-in admin for $Resource (Az.Accounts; newer versions return it
# as a SecureString).
function Get-CcaudToken([string]$Resource) {
    $token = (Get-AzAccessToken -ResourceUrl $Resource).Token
    if ($token -is [System.Security.SecureString]) {
        $token = [System.Net.NetworkCredential]::new('', $token).Password
    }
    $token
}

# --- sign in (each service once; a failed sign-in is recorded for its sections) --------------

try {
    Connect-MgGraph -Scopes {{GRAPH_SCOPES}} | Out-Null
} catch { $ConnectErrors['graph'] = Get-CcaudError $_ }
try {
    Connect-MicrosoftTeams | Out-Null
} catch { $ConnectErrors['teams'] = Get-CcaudError $_ }
try {
    Connect-IPPSSession -ShowBanner:$false | Out-Null
} catch { $ConnectErrors['compliance'] = Get-CcaudError $_ }
try {
    Connect-AzAccount | Out-Null
} catch {
    $ConnectErrors['arm'] = Get-CcaudError $_
    $ConnectErrors['dataverse'] = $ConnectErrors['arm']
}

$TenantId = ''
try { $TenantId = "$((Get-MgContext).TenantId)" } catch { }

# --- Microsoft Graph ----------------------------------------------------------------------------

Get-CcaudSection 'graph.organization' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/organization' {
    Get-CcaudGraphList '/v1.0/organization'
}
Get-CcaudSection 'graph.subscribedSkus' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/subscribedSkus' {
    Get-CcaudGraphList '/v1.0/subscribedSkus'
}
Get-CcaudSection 'graph.servicePrincipals' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/servicePrincipals' {
    Get-CcaudGraphList {{SERVICE_PRINCIPALS_PATH}}
}
Get-CcaudSection 'graph.oauth2PermissionGrants' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/oauth2PermissionGrants' {
    Get-CcaudGraphList '/v1.0/oauth2PermissionGrants'
}
Get-CcaudSection 'graph.roleAssignments' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/roleManagement/directory/roleAssignments' {
    Get-CcaudGraphList '/v1.0/roleManagement/directory/roleAssignments?$expand=principal'
}
Get-CcaudSection 'graph.resourceAccounts' 'graph' 'Invoke-MgGraphRequest -Method GET /beta/admin/teams/resourceAccounts' {
    Get-CcaudGraphList '/beta/admin/teams/resourceAccounts?$top=100'
}
Get-CcaudSection 'graph.numberAssignments' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments' {
    Get-CcaudGraphList '/v1.0/admin/teams/telephoneNumberManagement/numberAssignments'
}

# --- Teams (MicrosoftTeams module) ------------------------------------------------------------

Get-CcaudSection 'teams.TeamsAcsFederationConfiguration' 'teams' 'Get-CsTeamsAcsFederationConfiguration' {
    ConvertTo-CcaudRecord (Get-CsTeamsAcsFederationConfiguration)
}
Get-CcaudSection 'teams.ExternalAccessPolicy' 'teams' 'Get-CsExternalAccessPolicy' {
    ConvertTo-CcaudRecord (Get-CsExternalAccessPolicy)
}
Get-CcaudSection 'teams.TenantFederationSettings' 'teams' 'Get-CsTenantFederationConfiguration' {
    ConvertTo-CcaudRecord (Get-CsTenantFederationConfiguration)
}
Get-CcaudSection 'teams.applicationInstances' 'teams' 'Get-CsOnlineApplicationInstance' {
    ConvertTo-CcaudRecord (Get-CsOnlineApplicationInstance)
}
Get-CcaudSection 'teams.telephoneNumbers' 'teams' 'Get-CsPhoneNumberAssignment' {
    $all = @()
    $skip = 0
    do {
        $page = @(Get-CsPhoneNumberAssignment -Skip $skip -Top 1000)
        # ConvertTo-CcaudRecord emits its list as one object: += adds its items.
        $all += ConvertTo-CcaudRecord $page
        $skip += 1000
    } while ($page.Count -eq 1000)
    , $all
}

# --- the users: the resource accounts and the agents ----------------------------------------

$ResourceAccountIds = @()
foreach ($key in @('graph.resourceAccounts', 'teams.applicationInstances')) {
    if ($ResourceAccountIds.Count -eq 0 -and $Sections.Contains($key) -and $Sections[$key].Contains('data')) {
        $records = $Sections[$key]['data']
        if ($records -is [System.Collections.IDictionary]) { $records = $records['value'] }
        foreach ($record in @($records)) {
            $id = "$($record.id)"
            if (-not $id) { $id = "$($record.ObjectId)" }
            if ($id) { $ResourceAccountIds += $id.ToLowerInvariant() }
        }
    }
}

# No agents named: the members of the Dynamics 365 voice queues, as ccaudit's live read takes them.
$AgentSource = 'cli'
if ($Agents.Count -eq 0 -and $DataverseUrl) {
    Get-CcaudSection 'dataverse.systemusers' 'dataverse' 'Invoke-RestMethod -Method Get /api/data/v9.2/systemusers' {
        Get-CcaudRestList ($DataverseUrl + {{VOICE_QUEUE_MEMBERS_PATH}}) (Get-CcaudToken $DataverseUrl)
    }
    if ($Sections['dataverse.systemusers'].Contains('data')) {
        foreach ($member in @($Sections['dataverse.systemusers']['data']['value'])) {
            $id = "$($member.azureactivedirectoryobjectid)"
            if ($id) { $Agents += $id.ToLowerInvariant() }
        }
        $AgentSource = 'dataverse'
    }
}

$AgentIds = @()
Get-CcaudSection 'graph.users' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/users/{id}' {
    $users = @()
    foreach ($name in @($ResourceAccountIds) + @($Agents)) {
        try {
            $user = Invoke-MgGraphRequest -Method GET -Uri "$Graph/v1.0/users/$([uri]::EscapeDataString($name))?`$select={{USER_SELECT}}" -OutputType PSObject
        } catch {
            # An agent name that is not found stays out; the audit reports it as not found.
            if ("$($_.Exception.Message)" -match 'NotFound|Request_ResourceNotFound|404') { continue }
            throw
        }
        $users += $user
        if ($Agents -contains $name -or $Agents -contains "$($user.id)") {
            $script:AgentIds += "$($user.id)".ToLowerInvariant()
        }
    }
    [ordered]@{ value = $users }
}
$UserIds = @($ResourceAccountIds) + @($AgentIds) | Select-Object -Unique

Get-CcaudSection 'graph.licenseDetails' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/users/{id}/licenseDetails' {
    $byId = [ordered]@{}
    foreach ($id in $UserIds) { $byId[$id] = Get-CcaudGraphList "/v1.0/users/$id/licenseDetails" }
    $byId
}
Get-CcaudSection 'graph.memberOf' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group' {
    $byId = [ordered]@{}
    foreach ($id in $UserIds) {
        $byId[$id] = Get-CcaudGraphList "/v1.0/users/$id/transitiveMemberOf/microsoft.graph.group?`$select={{GROUP_SELECT}}"
    }
    $byId
}
Get-CcaudSection 'graph.userConfigurations' 'graph' 'Invoke-MgGraphRequest -Method GET /v1.0/admin/teams/userConfigurations/{id}' {
    $configurations = @()
    foreach ($id in $AgentIds) {
        $configurations += Invoke-MgGraphRequest -Method GET -Uri "$Graph/v1.0/admin/teams/userConfigurations/$id" -OutputType PSObject
    }
    [ordered]@{ value = $configurations }
}
Get-CcaudSection 'teams.onlineUsers' 'teams' 'Get-CsOnlineUser -Identity {id}' {
    $byId = [ordered]@{}
    foreach ($id in $UserIds) {
        try {
            $records = ConvertTo-CcaudRecord (Get-CsOnlineUser -Identity $id)
        } catch {
            # A user Teams does not know is recorded as unknown to Teams, not as an error.
            if ("$($_.Exception.Message)" -match 'not found|NotFound|find') { $byId[$id] = $null; continue }
            throw
        }
        if ($records.Count -gt 0) { $byId[$id] = $records[0] } else { $byId[$id] = $null }
    }
    $byId
}
$ResourceAccountList = 'graph.resourceAccounts'
if (-not $Sections['graph.resourceAccounts'].Contains('data')) { $ResourceAccountList = 'teams.applicationInstances' }
Get-CcaudSection 'teams.applicationInstanceAssociations' 'teams' 'Get-CsOnlineApplicationInstanceAssociation -Identity {id}' {
    $byId = [ordered]@{}
    foreach ($id in $ResourceAccountIds) {
        $byId[$id] = ConvertTo-CcaudRecord (Get-CsOnlineApplicationInstanceAssociation -Identity $id)
    }
    $byId
} -DependsOn $ResourceAccountList

# --- Information barriers (Security & Compliance PowerShell) --------------------------------

Get-CcaudSection 'compliance.InformationBarrierPolicy' 'compliance' 'Get-InformationBarrierPolicy' {
    ConvertTo-CcaudRecord (Get-InformationBarrierPolicy)
}
Get-CcaudSection 'compliance.OrganizationSegment' 'compliance' 'Get-OrganizationSegment' {
    ConvertTo-CcaudRecord (Get-OrganizationSegment)
}
Get-CcaudSection 'compliance.PolicyConfig' 'compliance' 'Get-PolicyConfig' {
    ConvertTo-CcaudRecord (Get-PolicyConfig)
}

# --- Azure Communication Services (Azure Resource Manager) ----------------------------------

Get-CcaudSection 'arm.subscriptions' 'arm' 'Invoke-RestMethod -Method Get /subscriptions' {
    Get-CcaudRestList "$Arm/subscriptions?api-version=2022-12-01" (Get-CcaudToken $Arm)
}
Get-CcaudSection 'arm.communicationServices' 'arm' 'Invoke-RestMethod -Method Get /subscriptions/{sub}/providers/Microsoft.Communication/communicationServices' {
    $token = Get-CcaudToken $Arm
    $all = @()
    foreach ($subscription in @($Sections['arm.subscriptions']['data']['value'])) {
        $list = Get-CcaudRestList "$Arm/subscriptions/$($subscription.subscriptionId)/providers/Microsoft.Communication/communicationServices?api-version={{ACS_API}}" $token
        $all += @($list['value'])
    }
    [ordered]@{ value = $all }
} -DependsOn 'arm.subscriptions'
Get-CcaudSection 'arm.eventSubscriptions' 'arm' 'Invoke-RestMethod -Method Get {acsResourceId}/providers/Microsoft.EventGrid/eventSubscriptions' {
    $token = Get-CcaudToken $Arm
    $byId = [ordered]@{}
    foreach ($acs in @($Sections['arm.communicationServices']['data']['value'])) {
        $byId["$($acs.id)".ToLowerInvariant()] = Get-CcaudRestList "$Arm$($acs.id)/providers/Microsoft.EventGrid/eventSubscriptions?api-version={{EVENT_GRID_API}}" $token
    }
    $byId
} -DependsOn 'arm.communicationServices'

# --- Dynamics 365 Contact Center (Dataverse Web API) ----------------------------------------
{{DATAVERSE}}
# --- the file ---------------------------------------------------------------------------------

$Collection = [ordered]@{
    ccaudit_collection = [ordered]@{
        script_version = $CcaudVersion
        format = 1
        powershell = "$($PSVersionTable.PSVersion)"
        edition = "$($PSVersionTable.PSEdition)"
    }
    # The invariant culture: `:` in a format is the culture's time separator otherwise.
    collected_at = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
    tenant_id = $TenantId
    cloud = 'public'
    sections = $Sections
}
if ($Agents.Count -gt 0) { $Collection['agents'] = [ordered]@{ source = $AgentSource; users = @($Agents) } }
$Collection | ConvertTo-Json -Depth 32 | Out-File -FilePath $OutFile -Encoding utf8
Write-Host "ccaudit: wrote $OutFile; audit it with: ccaudit audit --snapshot $OutFile"
