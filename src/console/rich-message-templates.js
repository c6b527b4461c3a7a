// Starting points for the console's rich message form: one agent message per format the outbound catalog
// carries, as the `message` (abstractMessage) of POST /api/conversations/{id}/messages. The operator edits
// the JSON before sending; the bridge checks the message and format types and passes the rest as given.
const title = (text, extra = {}) => ({ itemType: 'TitleItem', title: text, ...extra });
const option = (id, text, extra) => ({ itemType: 'TitleOptionItem', optionIdentifier: id, titleItem: title(text, extra) });

export const RICH_MESSAGE_TEMPLATES = {
  Buttons: {
    messageType: 'ChoicesMessage',
    choices: { formatType: 'Buttons', text: 'Did that solve it?', optionItems: [option('solved', 'Yes'), option('not-solved', 'Not yet')] },
  },
  QuickReplies: {
    messageType: 'ChoicesMessage',
    choices: {
      formatType: 'QuickReplies',
      text: 'How would you rate us?',
      optionItems: [option('good', 'Good'), option('bad', 'Could be better')],
    },
  },
  ListPicker: {
    messageType: 'ChoicesMessage',
    choices: {
      formatType: 'ListPicker',
      title: 'Which booking?',
      optionItems: [
        option('booking-1', 'Booking 1', { subTitle: 'Tomorrow' }),
        option('booking-2', 'Booking 2', { subTitle: 'Next week' }),
      ],
    },
  },
  TimePicker: {
    messageType: 'ChoicesMessage',
    choices: {
      formatType: 'TimePicker',
      calendarEvent: {
        itemType: 'CalendarEventOptionsItem',
        identifier: 'callback-slots',
        title: 'Pick a time for a call back',
        timeSlotOptionItems: [
          { itemType: 'TimeSlotOptionItem', optionIdentifier: 'morning', startTime: '2027-01-04T09:00:00Z', duration: 900 },
          { itemType: 'TimeSlotOptionItem', optionIdentifier: 'afternoon', startTime: '2027-01-04T15:00:00Z', duration: 900 },
        ],
      },
    },
  },
  Form: {
    messageType: 'FormMessage',
    form: {
      formatType: 'Inputs',
      formTitle: title('Your contact details'),
      sections: [
        {
          sectionType: 'SingleInputSection',
          submitForm: true,
          input: { inputType: 'TextInput', id: 'email', label: title('Email'), required: true },
        },
      ],
    },
  },
  Links: {
    messageType: 'StaticContentMessage',
    staticContent: { formatType: 'Links', links: [{ url: 'https://help.example.test/articles/42' }] },
  },
  RichLink: {
    messageType: 'StaticContentMessage',
    staticContent: {
      formatType: 'RichLink',
      text: 'This article walks through it',
      linkItem: { itemType: 'TitleLinkItem', url: 'https://help.example.test/articles/42', titleItem: title('How to reset a password') },
    },
  },
  Media: {
    messageType: 'StaticContentMessage',
    staticContent: {
      formatType: 'Media',
      mediaAsset: { id: 'diagram', assetType: 'ImageAsset', mimeType: 'image/png', assetUrl: 'https://help.example.test/diagram.png' },
    },
  },
};
